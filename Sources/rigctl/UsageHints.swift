import ArgumentParser

/// Usage mistakes that ArgumentParser answers with a misleading hint. It offers one nearest option, so
/// `capture --cout 2` suggested `--out` (which switches capture to files-only mode) and never `--count`, just as
/// near; and a mistyped subcommand followed by options (`dataset stats --dataset D`) was reported as an unknown
/// option, sending the person to the wrong word.
enum UsageHints {
    /// The command the leading words of `arguments` name, the words that named it, and the first word after them
    /// that is neither an option nor one of its subcommands (nil when there is none).
    static func resolve(_ arguments: [String], root: ParsableCommand.Type)
        -> (command: ParsableCommand.Type, path: [String], stray: String?)
    {
        var command = root
        var path = [root._commandName]
        for word in arguments {
            if word.hasPrefix("-") { break }
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty { break }
            if let next = subcommands.first(where: { $0._commandName == word || $0.configuration.aliases.contains(word) }) {
                command = next
                path.append(word)
                continue
            }
            if word == "help" || command.configuration.defaultSubcommand != nil { break }
            return (command, path, word)
        }
        return (command, path, nil)
    }

    /// A one-line error for a word that is not a subcommand of the command before it, with the nearest ones.
    static func unknownSubcommand(_ arguments: [String], root: ParsableCommand.Type) -> String? {
        let (command, path, stray) = resolve(arguments, root: root)
        guard let stray else { return nil }
        let names = command.configuration.subcommands.map { $0._commandName }
        let near = nearest(stray, among: names)
        var message = "Unknown subcommand '\(stray)' of '\(path.joined(separator: " "))'."
        if !near.isEmpty { message += " Did you mean \(alternatives(near))?" }
        return message + " Its subcommands: \(names.joined(separator: ", ")). See '\(path.joined(separator: " ")) --help'."
    }

    /// ArgumentParser's message for `error`, with a "Did you mean" that names every option as near as the one it
    /// picked instead of that one alone.
    static func message(for error: Error, arguments: [String], root: ParsableCommand.Type) -> String {
        let text = root.fullMessage(for: error)
        guard let unknown = quoted(after: "Unknown option '", in: text),
              let offered = text.range(of: " Did you mean '") else { return text }
        let (command, _, _) = resolve(arguments, root: root)
        let options = optionNames(in: command.helpMessage(columns: 1000))
        let near = nearest(unknown, among: options)
        guard near.count > 1, let end = text.range(of: "'?", range: offered.upperBound..<text.endIndex) else { return text }
        return text.replacingCharacters(in: offered.lowerBound..<end.upperBound, with: " Did you mean \(alternatives(near))?")
    }

    /// The long option names a help text lists (`--count <count>`, `--json`).
    static func optionNames(in help: String) -> [String] {
        var names: [String] = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "/" }) {
            guard word.hasPrefix("--"), word.count > 2 else { continue }
            let name = String(word.prefix { $0.isLetter || $0.isNumber || $0 == "-" })
            if name.count > 2, !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The candidates at the smallest edit distance from `word` (transpositions count once), if that distance is
    /// small enough for a typing slip (at most 2, and less than half the word); else those that `word` begins.
    static func nearest(_ word: String, among candidates: [String]) -> [String] {
        let scored = candidates.map { ($0, editDistance(word, $0)) }
        if let best = scored.map(\.1).min(), best <= 2, best * 2 < word.count {
            return scored.filter { $0.1 == best }.map(\.0).sorted()
        }
        // A word cut short (`stat` for `status`) is further than two edits from what was meant.
        return word.count >= 3 ? candidates.filter { $0.hasPrefix(word) }.sorted() : []
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[x.count][y.count]
    }

    static func alternatives(_ names: [String]) -> String {
        let quoted = names.map { "'\($0)'" }
        return quoted.count <= 1 ? quoted.joined() : quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }

    static func quoted(after prefix: String, in text: String) -> String? {
        guard let start = text.range(of: prefix) else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }
}

/// The page frame both servers share: escaping, the document around a body (with the shared stylesheet) and the
/// short message page a refused request gets.
package enum HTML {
    package static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    package static func document(title: String, body: String, script: String? = nil) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="stylesheet" href="/static/review.css">
        </head><body>
        \(body)
        \(script.map { "<script src=\"/static/\($0)\"></script>" } ?? "")
        </body></html>
        """
    }

    package static func message(title: String, text: String) -> String {
        document(title: title, body: "<main class=\"message\"><h1>\(escape(title))</h1><p>\(escape(text))</p></main>")
    }
}

/// The stylesheet both servers serve as /static/review.css.
package enum Stylesheet {
    package static let css = #"""
    :root { color-scheme: light dark; --bg: #fff; --fg: #1b1b1b; --muted: #666; --line: #ddd; --accent: #0b62d6; }
    @media (prefers-color-scheme: dark) { :root { --bg: #161616; --fg: #eee; --muted: #aaa; --line: #333; --accent: #6aa8ff; } }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
    header { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: baseline; padding: .6em 1em; border-bottom: 1px solid var(--line); }
    header h1 { font-size: 1.15em; margin: 0; }
    a { color: var(--accent); }
    .badge { background: #b36b00; color: #fff; padding: .1em .5em; border-radius: 3px; }
    .counts { display: flex; flex-wrap: wrap; gap: .4em 1.2em; padding: .5em 1em; color: var(--muted); }
    .counts b { color: var(--fg); }
    .filters { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center; padding: .4em 1em; }
    .table-wrap { overflow-x: auto; padding: 0 1em; }
    table.queue { border-collapse: collapse; width: 100%; }
    table.queue th, table.queue td { padding: .25em .6em; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
    table.queue th a { text-decoration: none; }
    table.queue th { white-space: normal; vertical-align: bottom; min-width: 3em; }
    table.queue tr.current { outline: 2px solid var(--accent); }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    table.queue td[data-col="thumb"] { padding: .15em .4em; }
    table.queue a.thumb { display: block; width: 64px; height: 48px; background: #808080; }
    table.queue a.thumb img { display: block; max-width: 64px; max-height: 48px; margin: auto; }
    details.columns { position: relative; }
    details.columns .choices { position: absolute; z-index: 5; right: 0; display: grid; grid-template-columns: repeat(2, max-content);
      gap: .1em 1em; max-height: 60vh; overflow: auto; padding: .5em .8em; background: var(--bg); border: 1px solid var(--line); }
    @media (max-width: 600px) {
      table.queue .wide { display: none; }
      .table-wrap { padding: 0 .3em; }
      table.queue th, table.queue td { padding: .25em .3em; }
      table.queue a.thumb { width: 48px; height: 36px; }
      table.queue a.thumb img { max-width: 48px; max-height: 36px; }
      details.columns .choices { left: 0; right: auto; grid-template-columns: max-content; }
    }
    .v-rejected, .r-rejected { color: #c62828; } .v-accepted, .r-approved { color: #2e7d32; }
    .v-review, .r-flagged { color: #b36b00; }
    .pager { padding: .6em 1em; display: flex; gap: 1em; }
    .batch { display: flex; flex-wrap: wrap; gap: .4em; align-items: center; padding: .2em 1em .5em; }
    .batch #confirm { background: #fff3cd; color: #1b1b1b; padding: .1em .5em; border-radius: 3px; }
    #batch-note { min-width: 12em; }
    .message { padding: 2em; }
    .disabled { color: var(--muted); }
    .toolbar, .decide { display: flex; flex-wrap: wrap; gap: .4em; align-items: center; padding: .4em 1em; }
    .toolbar button.active { outline: 2px solid var(--accent); }
    #note { flex: 1; min-width: 12em; }
    .views { display: flex; gap: 4px; padding: 0 1em; height: 70vh; }
    .view { flex: 1; margin: 0; position: relative; overflow: hidden; border: 1px solid var(--line); background: #808080; cursor: grab; touch-action: none; }
    .view figcaption { position: absolute; z-index: 2; left: 0; top: 0; background: rgba(0,0,0,.6); color: #fff; padding: .1em .5em; pointer-events: none; }
    .stage { position: absolute; left: 0; top: 0; transform-origin: 0 0; }
    .stage img { position: absolute; left: 0; top: 0; max-width: none; user-select: none; -webkit-user-drag: none; }
    .views.pixels .stage img { image-rendering: pixelated; }
    .stage img.over { display: none; }
    .views:not([data-mode="side"]) #view-b, .views:not([data-mode="side"]) .view.output { display: none; }
    button[disabled] { opacity: .5; }
    .stage svg.overlay { position: absolute; left: 0; top: 0; overflow: visible; pointer-events: none; }
    .views:not(.map-on) svg.map { display: none; }
    .views:not([data-mode="frame"]) svg.crop-frame { display: none; }
    svg.map rect.good, .swatch.good { fill: rgba(46,160,67,.45); background: rgba(46,160,67,.45); }
    svg.map rect.fair, .swatch.fair { fill: rgba(230,180,0,.5); background: rgba(230,180,0,.5); }
    svg.map rect.bad, .swatch.bad { fill: rgba(220,40,40,.55); background: rgba(220,40,40,.55); }
    svg.map rect.failing { stroke: #ff1744; stroke-width: 2; }
    svg.crop-frame rect { fill: none; stroke: #ffeb3b; stroke-width: 2; stroke-dasharray: 6 4; }
    svg.crop-frame path { fill: rgba(0,0,0,.45); fill-rule: evenodd; }
    .swatch { display: inline-block; width: 1.2em; height: .9em; vertical-align: middle; border: 1px solid var(--line); }
    .views[data-mode="flicker"].showing-target img.over { display: block; }
    .views[data-mode="wipe"] img.over { display: block; }
    #wipe { display: none; width: 12em; }
    body.wipe #wipe { display: inline-block; }
    aside { padding: .5em 1em 2em; }
    aside h2 { font-size: 1em; margin: .8em 0 .3em; }
    table.figures th { text-align: left; padding-right: 1em; font-weight: 600; }
    table.figures td { font-variant-numeric: tabular-nums; }
    @media (max-width: 760px) { .views { flex-direction: column; height: 90vh; } }
    """#
}

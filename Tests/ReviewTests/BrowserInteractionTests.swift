import DatasetBuilder
import Foundation
import PairVocabulary
import Review
import TestSupport
import Testing

/// Drives the pages in headless Chromium as a reviewer would: real key presses, wheel turns and drags dispatched
/// through the DevTools protocol's input domain (trusted events, through the browser's own input handling), then
/// reads the DOM and the catalogue. Every wait is on a condition in the page, never a fixed sleep.
/// Skipped, with the reason in the test report, where Chromium is not installed.
@Suite(.serialized) struct BrowserInteractionTests {
    static let chromium = BrowserTests.chromium
    /// The queue's order in these tests: worst aligned first. Pair 3 has no p95Shift and comes last.
    static let worstFirst = "sort=quality.p95Shift&order=desc"
    static let order = [9, 8, 7, 6, 5, 4, 2, 1, 0, 3]

    struct Session {
        let server: RunningServer
        let page: BrowserPage
        let ids: [PairID]
        let root: URL
        var base: String { "http://127.0.0.1:\(server.port)" }

        func state(_ index: Int) throws -> (String, String) {
            let pair = try Dataset.open(at: root, readOnly: true).pair("\(ids[index])")
            return (pair.reviewState.rawValue, pair.reviewNote)
        }
    }

    /// A fresh dataset, server, browser and page for `body`; all of it is stopped and removed afterwards, also
    /// when `body` throws.
    func withBrowser(token: String? = nil, dataset make: (URL) throws -> (Dataset, [PairID]) = { try makeReviewDataset(in: $0) },
                     _ body: (Session) async throws -> Void) async throws {
        let browser = try #require(Self.chromium)
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (dataset, ids) = try make(dir)
        let server = try await RunningServer.start(dataset, token: token)
        let devtools: DevTools
        do {
            devtools = try DevTools(executable: browser, profile: dir.appendingPathComponent("profile"))
        } catch {
            await server.stop()
            throw error
        }
        var failure: Error?
        do {
            let page = try await devtools.newPage()
            try await body(Session(server: server, page: page, ids: ids, root: dataset.root))
        } catch {
            failure = error
        }
        await devtools.close()
        await server.stop()
        if let failure { throw failure }
    }

    /// Opens a pair page and waits until its script has fitted the loaded source image.
    func openPair(_ s: Session, _ index: Int, query: String = worstFirst) async throws {
        try await s.page.open("\(s.base)/pairs/\(s.ids[index])\(query.isEmpty ? "" : "?" + query)")
        try await s.page.waitFor("document.querySelector('#view-a img').naturalWidth > 0 && document.getElementById('zoom').textContent.endsWith('%')")
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func keyboardDecisionsReachTheCatalogueAndNextPreviousFollowTheQueue() async throws {
        try await withBrowser { s in
            let page = s.page
            try await openPair(s, 5)
            #expect(try s.state(5) == ("unreviewed", ""))

            // Keys typed into the note field are text, not decisions.
            let note = try await page.centre(of: "#note")
            try await page.click(x: note.0, y: note.1)
            try await page.waitFor("document.activeElement.id === 'note'")
            try await page.press("a")
            try await page.waitFor("document.getElementById('note').value === 'a'")
            try await page.press("Backspace")
            try await page.type("seam at the top")
            try await page.waitFor("document.getElementById('note').value === 'seam at the top'")
            #expect(try await page.string("document.getElementById('status').textContent") == "")
            #expect(try s.state(5) == ("unreviewed", ""))

            // A click on the image leaves the field; `a` now approves, with the note, and the catalogue has it
            // once the page says it is saved.
            let view = try await page.centre(of: "#view-a")
            try await page.click(x: view.0, y: view.1)
            try await page.waitFor("document.activeElement.id !== 'note'")
            try await page.press("a")
            try await page.waitFor("document.getElementById('status').textContent === 'saved: approved'")
            #expect(try await page.string("document.getElementById('state').textContent") == "approved")
            #expect(try s.state(5) == ("approved", "seam at the top"))

            try await page.press("f")
            try await page.waitFor("document.getElementById('status').textContent === 'saved: flagged'")
            #expect(try s.state(5) == ("flagged", "seam at the top"))
            try await page.press("r")
            try await page.waitFor("document.getElementById('status').textContent === 'saved: rejected'")
            #expect(try s.state(5) == ("rejected", "seam at the top"))

            // j / k walk the queue's order (worst aligned first), keeping its filter in the address.
            let at = Self.order.firstIndex(of: 5)!
            try await page.press("j")
            try await page.waitFor("location.pathname === '/pairs/\(s.ids[Self.order[at + 1]])' && document.readyState === 'complete'")
            #expect(try await page.string("location.search") == "?" + Self.worstFirst)
            try await page.press("k")
            try await page.waitFor("location.pathname === '/pairs/\(s.ids[5])' && document.readyState === 'complete'")
            // The reloaded page shows the stored decision and note.
            try await page.waitFor("document.getElementById('state').textContent === 'rejected'")
            #expect(try await page.string("document.getElementById('note').value") == "seam at the top")
            try await page.press("k")
            try await page.waitFor("location.pathname === '/pairs/\(s.ids[Self.order[at - 1]])' && document.readyState === 'complete'")
            try await page.press("u")
            try await page.waitFor("document.getElementById('status').textContent === 'saved: unreviewed'")
            #expect(try s.state(Self.order[at - 1]) == ("unreviewed", ""))
            // The other pairs were not touched.
            for i in 0..<10 where i != 5 { #expect(try s.state(i).0 == "unreviewed", "pair \(i)") }

            // The queue: j j Enter opens the second row of its order.
            try await page.open("\(s.base)/?\(Self.worstFirst)")
            try await page.press("j")
            try await page.press("j")
            try await page.waitFor("document.querySelectorAll('tr.current').length === 1 && document.querySelector('tr.current').dataset.id === '\(s.ids[Self.order[1]])'")
            try await page.press("Enter")
            try await page.waitFor("location.pathname === '/pairs/\(s.ids[Self.order[1]])' && document.readyState === 'complete'")
        }
    }

    /// The transform of both stages, as [scale, x, y].
    func transforms(_ page: BrowserPage) async throws -> [[Double]] {
        let value = try await page.evaluate("""
            Array.from(document.querySelectorAll('.stage')).map(function (st) {
              const m = new DOMMatrix(getComputedStyle(st).transform); return [m.a, m.e, m.f]; })
            """)
        return (value as? [[NSNumber]] ?? []).map { $0.map(\.doubleValue) }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func wheelAndDragPanAndZoomBothViewsTogether() async throws {
        try await withBrowser { s in
            let page = s.page
            try await openPair(s, 2)
            let fitted = try await transforms(page)
            #expect(fitted.count == 2 && fitted[0] == fitted[1])
            let fitScale = fitted[0][0]
            // The synthetic images are 32x24; fitted into a view hundreds of pixels wide they are blown up.
            #expect(fitScale > 2, "fit scale \(fitScale)")

            // A wheel turn over the left view zooms both about the pointer: the image point under it stays put.
            let a = try await page.rect(of: "#view-a")
            let pointer = (a.x + a.width * 0.3, a.y + a.height * 0.4)
            let local = (pointer.0 - a.x, pointer.1 - a.y)
            let before = ((local.0 - fitted[0][1]) / fitScale, (local.1 - fitted[0][2]) / fitScale)
            let label = try await page.string("document.getElementById('zoom').textContent")
            try await page.wheel(x: pointer.0, y: pointer.1, deltaY: -200)
            try await page.waitFor("document.getElementById('zoom').textContent !== '\(label)'")
            let zoomed = try await transforms(page)
            #expect(zoomed[0] == zoomed[1])
            #expect(zoomed[0][0] > fitScale * 1.2, "scale \(fitScale) -> \(zoomed[0][0])")
            let after = ((local.0 - zoomed[0][1]) / zoomed[0][0], (local.1 - zoomed[0][2]) / zoomed[0][0])
            // Computed transforms carry about six significant digits, hence the tolerances.
            #expect(abs(after.0 - before.0) < 0.01 && abs(after.1 - before.1) < 0.01, "\(before) -> \(after)")

            // A drag on the right view pans both by the distance dragged.
            let b = try await page.centre(of: "#view-b")
            try await page.drag(from: b, to: (b.0 + 40, b.1 + 25))
            try await page.waitFor("new DOMMatrix(getComputedStyle(document.querySelector('#view-a .stage')).transform).e !== \(zoomed[0][1])")
            let panned = try await transforms(page)
            #expect(panned[0] == panned[1])
            #expect(abs(panned[0][1] - zoomed[0][1] - 40) < 0.01 && abs(panned[0][2] - zoomed[0][2] - 25) < 0.01,
                    "\(zoomed[0]) -> \(panned[0])")
            #expect(panned[0][0] == zoomed[0][0])

            // 1 is 1:1: one image pixel on one CSS pixel, the image at its full stored size (32x24).
            try await page.press("1")
            try await page.waitFor("document.getElementById('zoom').textContent === '100%'")
            #expect(try await transforms(page).allSatisfy { abs($0[0] - 1) < 1e-6 })
            #expect(abs(try await page.number("document.querySelector('#view-a img').getBoundingClientRect().width") - 32) < 1e-3)
            #expect(abs(try await page.number("document.querySelector('#view-b img').getBoundingClientRect().height") - 24) < 1e-3)
            #expect(try await page.number("document.querySelector('#view-a img').naturalWidth") == 32)
            // Beyond 1:1, pixels are drawn as squares.
            try await page.press("+")
            try await page.press("+")
            try await page.press("+")
            try await page.press("+")
            try await page.waitFor("document.getElementById('zoom').textContent === '244%'")
            #expect(try await page.evaluate("document.querySelector('.views').classList.contains('pixels')") as? Bool == true)
            try await page.press("-")
            try await page.waitFor("document.getElementById('zoom').textContent === '195%'")
            #expect(try await page.evaluate("document.querySelector('.views').classList.contains('pixels')") as? Bool == false)
            // 0 fits again.
            try await page.press("0")
            try await page.waitFor("new DOMMatrix(getComputedStyle(document.querySelector('#view-a .stage')).transform).a === \(fitScale)")
            #expect(try await transforms(page) == fitted)
        }
    }

    func visible(_ page: BrowserPage, _ selector: String) async throws -> Bool {
        try await page.evaluate("getComputedStyle(document.querySelector(\(BrowserPage.literal(selector)))).display !== 'none'") as? Bool == true
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func flickerWipeAndDifferenceToggleByKeyAndButton() async throws {
        try await withBrowser { s in
            let page = s.page
            try await openPair(s, 1)
            #expect(try await visible(page, "#view-b"))
            #expect(try await visible(page, "#view-a img.over") == false)

            // Space flickers: one view, the target shown over the source, then the source again.
            try await page.press(" ")
            try await page.waitFor("document.querySelector('.views').dataset.mode === 'flicker' && document.getElementById('status').textContent === 'target'")
            #expect(try await visible(page, "#view-a img.over"))
            #expect(try await visible(page, "#view-b") == false)
            try await page.press(" ")
            try await page.waitFor("document.getElementById('status').textContent === 'source'")
            #expect(try await visible(page, "#view-a img.over") == false)
            try await page.press(" ")
            try await page.waitFor("document.getElementById('status').textContent === 'target'")
            #expect(try await visible(page, "#view-a img.over"))

            // w: the wipe, the target clipped at the slider (50% at first); the slider moves the split.
            try await page.press("w")
            try await page.waitFor("document.querySelector('.views').dataset.mode === 'wipe'")
            #expect(try await visible(page, "#view-a img.over"))
            #expect(try await visible(page, "#wipe"))
            #expect(try await page.string("document.querySelector('#view-a img.over').style.clipPath") == "inset(0px 0px 0px 50%)")
            let slider = try await page.rect(of: "#wipe")
            try await page.click(x: slider.x + slider.width * 0.2, y: slider.y + slider.height / 2)
            try await page.waitFor("document.getElementById('wipe').value !== '50'")
            let value = try await page.string("document.getElementById('wipe').value")
            #expect((Int(value) ?? 50) < 35, "slider at \(value)")
            #expect(try await page.string("document.querySelector('#view-a img.over').style.clipPath").hasSuffix(" \(value)%)"))

            // d: the difference image, loaded through the API, in one view.
            try await page.press("d")
            try await page.waitFor("document.querySelector('#view-a img').src.endsWith('/image/difference') && document.querySelector('#view-a img').complete && document.querySelector('#view-a img').naturalWidth === 32")
            #expect(try await visible(page, "#view-b") == false)
            #expect(try await visible(page, "#view-a img.over") == false)
            #expect(try await visible(page, "#wipe") == false)

            // The buttons do the same as the keys; s goes back to side by side with the source.
            let flicker = try await page.centre(of: "button[data-mode=flicker]")
            try await page.click(x: flicker.0, y: flicker.1)
            try await page.waitFor("document.querySelector('.views').dataset.mode === 'flicker' && document.getElementById('status').textContent === 'target'")
            try await page.press("s")
            try await page.waitFor("document.querySelector('.views').dataset.mode === 'side' && document.querySelector('#view-a img').src.endsWith('/image/source')")
            #expect(try await visible(page, "#view-b"))
            #expect(try await visible(page, "#view-a img.over") == false)
            #expect(try await page.evaluate("document.querySelector('button[data-mode=side]').classList.contains('active')") as? Bool == true)
        }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func crossOriginPostsFromAnotherPageChangeNothing() async throws {
        try await withBrowser { s in
            let page = s.page
            // Another site's page (a second server on another port is another origin), with its own CSP lifted
            // so that its script can attempt what an attacker's page would.
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let (other, _) = try makeReviewDataset(in: dir, count: 1)
            let attacker = try await RunningServer.start(other)
            do {
                try await page.send("Page.setBypassCSP", ["enabled": true])
                try await page.open("http://127.0.0.1:\(attacker.port)/")
                let target = "\(s.base)/api/pairs/\(s.ids[0])/review"
                // A JSON fetch needs a CORS preflight the server never grants: the POST is never sent.
                let json = try await page.evaluate("""
                    fetch(\(BrowserPage.literal(target)), { method: 'POST', headers: { 'Content-Type': 'application/json' },
                      body: '{"state": "approved"}' }).then(function () { return 'sent'; }, function () { return 'blocked'; })
                    """) as? String
                #expect(json == "blocked")
                // A simple (no-cors) POST is sent, and refused by the server (cross-origin, not JSON).
                _ = try await page.evaluate("""
                    fetch(\(BrowserPage.literal(target)), { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' },
                      body: '{"state": "approved"}' }).then(function () { return 'done'; }, function () { return 'failed'; })
                    """)
                #expect(try s.state(0) == ("unreviewed", ""))
                // And the classic form post (text/plain, shaped like JSON), submitted as a navigation: the page
                // that comes back is the server's refusal.
                _ = try await page.evaluate("""
                    (function () {
                      const form = document.createElement('form'); form.method = 'POST'; form.enctype = 'text/plain';
                      form.action = \(BrowserPage.literal(target));
                      const field = document.createElement('input'); field.name = '{"state": "approved", "x": "'; field.value = '"}';
                      form.appendChild(field); document.body.appendChild(form); form.submit(); return true;
                    })()
                    """)
                try await page.waitFor("location.href === \(BrowserPage.literal(target)) && document.readyState === 'complete'")
                #expect(try await page.string("document.body.textContent").contains("refused"))
                #expect(try s.state(0) == ("unreviewed", ""))
                // The same JSON POST from the server's own page is accepted, so the refusals above are the
                // origin checks and not a broken request.
                try await page.send("Page.setBypassCSP", ["enabled": false])
                try await openPair(s, 0)
                let own = try await page.evaluate("""
                    fetch(\(BrowserPage.literal(target)), { method: 'POST', headers: { 'Content-Type': 'application/json' },
                      body: '{"state": "approved"}' }).then(function (r) { return r.status; })
                    """) as? Int
                #expect(own == 200)
                #expect(try s.state(0).0 == "approved")
            } catch {
                await attacker.stop()
                throw error
            }
            await attacker.stop()
        }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func aWrongTokenIsRefusedAndTheRightOneBecomesACookie() async throws {
        let token = String(repeating: "ab", count: 32)
        try await withBrowser(token: token) { s in
            let page = s.page
            try await page.open("\(s.base)/?token=\(String(repeating: "cd", count: 32))")
            #expect(try await page.string("document.title").hasPrefix("403"))
            try await page.open("\(s.base)/pairs/\(s.ids[1])")
            #expect(try await page.string("document.title").hasPrefix("401"))

            // The right token: redirected to the same page without it, and from then on the cookie is enough.
            try await page.send("Page.navigate", ["url": "\(s.base)/?token=\(token)"])
            try await page.waitFor("location.href === '\(s.base)/' && document.readyState === 'complete' && document.querySelectorAll('table.queue tbody tr').length === 10")
            try await openPair(s, 1, query: "")
            try await page.press("a")
            try await page.waitFor("document.getElementById('status').textContent === 'saved: approved'")
            #expect(try s.state(1).0 == "approved")
        }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func misalignmentMapCropAndModelOutputsAreDrawnInPlace() async throws {
        try await withBrowser(dataset: { dir in
            let (dataset, id) = try OverlayPair.make(in: dir)
            return (dataset, [id])
        }) { s in
            let page = s.page
            try await openPair(s, 0, query: "")
            // The model's output is a third view, captioned with its scores, under the same pan and zoom.
            #expect(try await visible(page, "#view-out-0"))
            #expect(try await page.string("#view-out-0 figcaption".asText) == "sharpen · PSNR 31.25 dB · SSIM 0.925 · LPIPS 0.0625")
            try await page.waitFor("document.querySelector('#view-out-0 img').naturalWidth === 224")
            let a = try await page.centre(of: "#view-a")
            try await page.wheel(x: a.0, y: a.1, deltaY: -150)
            try await page.waitFor("new Set(Array.from(document.querySelectorAll('.stage')).map(function (st) { return st.style.transform; })).size === 1 && document.querySelector('.stage').style.transform.indexOf('scale') >= 0")
            let t = try await transforms(page)
            #expect(t.count == 3 && t.allSatisfy { $0 == t[0] })

            // m: the map over every view; the shifted patch is red, outlined as failing, and its centre block sits on
            // that block.
            try await page.press("m")
            try await page.waitFor("document.querySelectorAll('svg.map').length === 3 && document.getElementById('status').textContent === 'misalignment map'")
            let failingRects = "#view-a svg.map rect.bad.failing"
            let bad = "\(failingRects)[x='\(OverlayPair.shiftedBlock.x)'][y='\(OverlayPair.shiftedBlock.y)']"
            #expect(try await page.number("document.querySelectorAll(\(BrowserPage.literal(bad))).length") == 1)
            let failingCount = Int(try await page.number("document.querySelectorAll('\(failingRects)').length"))
            let patch = OverlayPair.shiftedPixels
            let outside = try await page.number("""
                Array.from(document.querySelectorAll('\(failingRects)')).filter(function (r) {
                  const x = +r.getAttribute('x'), y = +r.getAttribute('y');
                  return x < \(patch.x.lowerBound) || x >= \(patch.x.upperBound) || y < \(patch.y.lowerBound) || y >= \(patch.y.upperBound);
                }).length
                """)
            #expect(outside == 0, "failing blocks outside the shifted patch")
            #expect(try await page.number("document.querySelectorAll('#view-b svg.map rect.bad').length") == Double(failingCount))
            #expect(failingCount == 9)
            #expect(try await page.number("document.querySelectorAll('#view-a svg.map rect.good').length") >= 12)
            #expect(try await visible(page, "#view-a svg.map"))
            func onScreen(_ imageX: Double, _ imageY: Double) async throws -> (Double, Double) {
                let view = try await page.rect(of: "#view-a"), m = try await transforms(page)[0]
                return (view.x + 1 + m[1] + imageX * m[0], view.y + 1 + m[2] + imageY * m[0])
            }
            var block = try await page.rect(of: bad)
            var expected = try await onScreen(Double(OverlayPair.shiftedBlock.x), Double(OverlayPair.shiftedBlock.y))
            #expect(abs(block.x - expected.0) < 1.5 && abs(block.y - expected.1) < 1.5, "\(block) vs \(expected)")
            #expect(try await page.string("document.getElementById('map-summary').textContent").contains("\(failingCount) failing"))
            let shots = ProcessInfo.processInfo.environment["RIGCTL_REVIEW_SCREENSHOTS"]
            if let shots { try await page.screenshot(to: "\(shots)/review-map.png") }

            // c: the original frame with the crop outlined; the map moves with the crop's offset.
            try await page.press("c")
            try await page.waitFor("document.querySelector('.views').dataset.mode === 'frame' && document.querySelector('#view-a img').src.endsWith('/image/original') && document.querySelector('#view-a img').naturalWidth === 256 && document.querySelector('svg.crop-frame path') !== null")
            #expect(try await visible(page, "#view-a svg.crop-frame"))
            #expect(try await visible(page, "#view-b") == false)
            #expect(try await visible(page, "#view-out-0") == false)
            let c = OverlayPair.crop
            let outline = try await page.rect(of: "svg.crop-frame rect")
            let corner = try await onScreen(Double(c.x), Double(c.y))
            let scale = try await transforms(page)[0][0]
            #expect(abs(outline.x - corner.0) < 1.5 && abs(outline.y - corner.1) < 1.5, "\(outline) vs \(corner)")
            #expect(abs(outline.width - Double(c.width) * scale) < 3, "\(outline.width) vs \(Double(c.width) * scale)")
            block = try await page.rect(of: bad)
            expected = try await onScreen(Double(c.x + OverlayPair.shiftedBlock.x), Double(c.y + OverlayPair.shiftedBlock.y))
            #expect(abs(block.x - expected.0) < 1.5 && abs(block.y - expected.1) < 1.5, "\(block) vs \(expected)")
            if let shots { try await page.screenshot(to: "\(shots)/review-frame.png") }

            // m again hides the map; s is side by side with the stored source again.
            try await page.press("m")
            try await page.waitFor("!document.querySelector('.views').classList.contains('map-on')")
            #expect(try await visible(page, "#view-a svg.map") == false)
            try await page.press("s")
            try await page.waitFor("document.querySelector('#view-a img').src.endsWith('/image/source') && document.querySelector('#view-a img').naturalWidth === 224")
            #expect(try await visible(page, "#view-a svg.crop-frame") == false)

            // o: flicker compares the source with the model's output instead of the target.
            try await page.press("o")
            try await page.waitFor("document.getElementById('compare-name').textContent === 'sharpen output'")
            try await page.press(" ")
            try await page.waitFor("document.getElementById('status').textContent === 'sharpen output' && document.querySelector('#view-a img.over').src.indexOf('/image/output?model=sharpen') > 0")
            #expect(try await visible(page, "#view-a img.over"))
        }
    }

    /// A condition typed into the queue's `where` field and submitted with Enter filters the rows, lands in the
    /// address, and survives a reload.
    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func aFigureConditionTypedInTheQueueFiltersAndStaysInTheAddress() async throws {
        try await withBrowser { s in
            let page = s.page
            try await page.open("\(s.base)/?\(Self.worstFirst)")
            try await page.waitFor("document.querySelectorAll('table.queue tbody tr').length === 10")
            let field = try await page.centre(of: "#where")
            try await page.click(x: field.0, y: field.1)
            try await page.waitFor("document.activeElement.id === 'where'")
            try await page.type("quality.p95Shift>0.5, score.input.psnr<26")
            try await page.press("Enter")
            try await page.waitFor("location.search.includes('where=') && document.readyState === 'complete'"
                                   + " && document.querySelectorAll('table.queue tbody tr').length === 3")
            let rows = "Array.from(document.querySelectorAll('table.queue tbody tr')).map(function (r) { return r.dataset.id; }).join(',')"
            // p95Shift > 0.5 is pairs 6-9; PSNR under 26 drops pair 9; worst aligned first.
            let expected = [8, 7, 6].map { "\(s.ids[$0])" }.joined(separator: ",")
            #expect(try await page.string(rows) == expected)
            let search = try await page.string("decodeURIComponent(location.search.replace(/\\+/g, ' '))")
            #expect(search.contains("where=quality.p95Shift>0.5, score.input.psnr<26") && search.contains("sort=quality.p95Shift"), "\(search)")
            _ = try await page.evaluate("window.stale = true, true")
            try await page.send("Page.reload")
            try await page.waitFor("!window.stale && document.readyState === 'complete' && document.querySelectorAll('table.queue tbody tr').length === 3")
            #expect(try await page.string(rows) == expected)
            #expect(try await page.string("document.getElementById('where').value") == "quality.p95Shift>0.5,score.input.psnr<26")
        }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed; apt-get install chromium to run the browser tests"))
    func batchDecisionsInTheQueueAskFirstThenReachTheCatalogue() async throws {
        try await withBrowser { s in
            let page = s.page
            try await page.open("\(s.base)/?\(Self.worstFirst)")
            // Two rows by mouse, one by keyboard (j j j x: the third row).
            for row in [0, 1] {
                let box = try await page.centre(of: "tr[data-id='\(s.ids[Self.order[row]])'] input.pick")
                try await page.click(x: box.0, y: box.1)
            }
            try await page.press("Escape")
            _ = try await page.evaluate("document.activeElement.blur(), true")
            for _ in 0..<3 { try await page.press("j") }
            try await page.press("x")
            try await page.waitFor("document.getElementById('selected').textContent === '3 selected'")
            let note = try await page.centre(of: "#batch-note")
            try await page.click(x: note.0, y: note.1)
            try await page.type("sharp throughout")
            let approve = try await page.centre(of: "button[data-batch=approved]")
            try await page.click(x: approve.0, y: approve.1)
            try await page.waitFor("!document.getElementById('confirm').hidden")
            #expect(try await page.string("document.getElementById('confirm-text').textContent") == "Mark 3 pairs as approved?")
            // Nothing is sent before the confirmation; cancel sends nothing either.
            let no = try await page.centre(of: "#confirm-no")
            try await page.click(x: no.0, y: no.1)
            try await page.waitFor("document.getElementById('confirm').hidden")
            #expect(try (0..<10).map { try s.state($0).0 }.allSatisfy { $0 == "unreviewed" })

            try await page.click(x: approve.0, y: approve.1)
            try await page.waitFor("!document.getElementById('confirm').hidden")
            let yes = try await page.centre(of: "#confirm-yes")
            try await page.click(x: yes.0, y: yes.1)
            try await page.waitFor("document.getElementById('batch-status').textContent === '3 pairs marked approved'")
            let chosen = [Self.order[0], Self.order[1], Self.order[2]]
            for i in 0..<10 {
                #expect(try s.state(i) == (chosen.contains(i) ? ("approved", "sharp throughout") : ("unreviewed", "")), "pair \(i)")
            }
            #expect(try await page.string("tr[data-id='\(s.ids[chosen[0]])'] .review".asText) == "approved")
            #expect(try await page.string("document.getElementById('selected').textContent") == "0 selected")

            // Every pair a filter matches, beyond the rows on the page: verdict=rejected, one row a page.
            try await page.open("\(s.base)/?verdict=rejected&limit=1")
            let all = try await page.centre(of: "#select-matching")
            try await page.click(x: all.0, y: all.1)
            try await page.waitFor("document.getElementById('selected').textContent === 'all 2 matching selected'")
            let reject = try await page.centre(of: "button[data-batch=rejected]")
            try await page.click(x: reject.0, y: reject.1)
            try await page.waitFor("!document.getElementById('confirm').hidden")
            #expect(try await page.string("document.getElementById('confirm-text').textContent") == "Mark 2 pairs as rejected (every pair matching the filter)?")
            let confirm = try await page.centre(of: "#confirm-yes")
            try await page.click(x: confirm.0, y: confirm.1)
            try await page.waitFor("document.getElementById('batch-status').textContent === '2 pairs marked rejected'")
            #expect(try s.state(4).0 == "rejected" && s.state(9).0 == "rejected")
            #expect(try s.state(5).0 == "unreviewed")
        }
    }
}

extension String {
    /// A JavaScript expression for the text of the element this selector names.
    var asText: String { "document.querySelector(\(BrowserPage.literal(self))).textContent" }
}

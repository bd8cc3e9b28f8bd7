"""The reports as a browser shows them. Headless Chromium, driven over the DevTools protocol, opens a batch's
layout (OUT/index.html, OUT/students/<id>/report.html) and checks that no page logs an error, every image
decodes, every inline SVG has a size, and the links between the class page and the students' pages work."""
import copy
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from graders import spec as specs
from graders.report import class_report, student_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="chromium is not installed (.ci/run installs it with apt-get when run as root)")

INSPECT = """(async () => {
  const images = await Promise.all([...document.images].map(async (img) => {
    const decoded = await img.decode().then(() => true, () => false);
    return {src: img.getAttribute('src').slice(0, 60), decoded, complete: img.complete, width: img.naturalWidth};
  }));
  const svgs = [...document.querySelectorAll('svg')].map((svg) => {
    const box = svg.getBoundingClientRect(), content = svg.getBBox();
    return {id: svg.id, width: box.width, height: box.height, content: content.width * content.height};
  });
  return {page: document.body ? document.body.dataset.page : null, url: location.href, images, svgs,
          links: [...document.querySelectorAll('a[href]')].map((a) => ({id: a.id, href: a.href}))};
})()"""


class Chromium:
    """Headless Chromium with --remote-debugging-pipe: it reads commands on its fd 3 and writes replies and events
    on its fd 4, each a JSON message ended by a NUL byte. No port to choose or leak, no websocket client."""

    def __init__(self, profile):
        commands, replies = os.pipe(), os.pipe()
        # Copies above fd 10, so that placing them on 3 and 4 in the child can't overwrite one with the other.
        theirs = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands[0], replies[1])]
        os.close(commands[0])
        os.close(replies[1])

        def on_fds_3_and_4():
            os.dup2(theirs[0], 3)  # dup2 clears close-on-exec on the copy
            os.dup2(theirs[1], 4)

        # --no-sandbox: Chromium's sandbox won't start as root or in many containers, and the pages are our own.
        args = [CHROMIUM, "--headless=new", "--no-sandbox", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                "--mute-audio", "about:blank"]
        self.profile = str(profile)
        self.proc = subprocess.Popen(args, preexec_fn=on_fds_3_and_4, close_fds=False, start_new_session=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in theirs:
            os.close(fd)
        self._out, self._in = commands[1], replies[0]
        self._buffer, self._id, self.events = b"", 0, []
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=self.session)
        except Exception:
            self.close()
            raise

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method, session=None, timeout=15, **params):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params} | ({"sessionId": session} if session else {})
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while (reply := self._receive(deadline)).get("id") != self._id:
            self.events.append(reply)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, method, since, timeout=15):
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events[since:]):
            self.events.append(self._receive(deadline))

    def visit(self, url):
        """Load `url` in the tab: (what the page reports of itself, the errors it logged while loading)."""
        since = len(self.events)
        navigation = self.call("Page.navigate", session=self.session, url=url)
        if "errorText" in navigation:
            return None, [f"{url}: {navigation['errorText']}"]
        self.wait_for("Page.loadEventFired", since)
        found = self.call("Runtime.evaluate", session=self.session, expression=INSPECT, awaitPromise=True,
                          returnByValue=True)
        return found["result"]["value"], errors(self.events[since:])

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page loaded last."""
        return self.call("Runtime.evaluate", session=self.session, expression=expression,
                         returnByValue=True)["result"]["value"]

    def close(self):
        """Close the browser, kill what is left of its process group, and say which processes outlived it."""
        try:
            self.call("Browser.close", timeout=5)
        except (ConnectionError, TimeoutError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self._out)
        os.close(self._in)
        return [pid for pid in os.listdir("/proc") if pid.isdigit() and self.profile in cmdline(pid)]


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def errors(events):
    """Exceptions, console.error calls and browser log errors (failed loads, CSP violations) among CDP events."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(f"exception: {details.get('exception', {}).get('description') or details['text']}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            found.append(f"console.{params['type']}: {[a.get('value') for a in params['args']]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}".strip())
    return found


def problems(report):
    """What is wrong with a page as the browser drew it."""
    return ([f"image not drawn: {i}" for i in report["images"] if not (i["decoded"] and i["complete"] and i["width"])]
            + [f"svg without size: {s}" for s in report["svgs"] if not (s["width"] and s["height"] and s["content"])])


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    assert chromium.close() == [], "Chromium processes outlived the test"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A batch's output for four students: one really graded (a known bug), one given full marks, one whose
    grading failed, one whose first check waits for the GPU runner (as graders/thresholds.py leaves a threshold
    check); the first page also has learning curves."""
    from graders.grade import grade
    from graders.results import gradescope
    from graders.thresholds import PENDING_NOTE

    spec = specs.get("uw-cse447-a2")
    students = {"ada": gradescope(grade("graders_packs/uw_cse447_a2/samples/uw-cse447-a2/bug-scale-sqrt-embd", spec))}
    students["bob"] = copy.deepcopy(students["ada"])
    for test in students["bob"]["tests"]:
        test.update(score=test["max_score"], status="passed", output="", tags=test["tags"][:2])
    students["bob"]["score"] = spec.max_score
    students["ada"]["extra_data"]["figures"].append(
        {"kind": "curves", "title": "Loss", "x_label": "step", "y_label": "loss",
         "series": [{"label": "train", "x": [0, 1, 2, 3], "y": [3, 2, 1.5, 1.2]}, {"label": "dev", "x": [3], "y": [1.6]}]})
    students["cy"] = copy.deepcopy(students["bob"])
    students["cy"]["tests"] = [{"name": "Grader", "number": "0", "score": 0.0, "max_score": 0.0, "status": "failed",
                                "output": "The grader failed before finishing (OSError)", "output_format": "text",
                                "visibility": "visible", "tags": ["grader"]}]
    students["dee"] = copy.deepcopy(students["bob"])
    students["dee"]["tests"][0].update(score=0.0, status="failed", output=PENDING_NOTE,
                                       tags=students["dee"]["tests"][0]["tags"][:2] + ["pending"])
    students["dee"]["score"] = spec.max_score - students["dee"]["tests"][0]["max_score"]
    out = tmp_path_factory.mktemp("batch")
    links = {sid: f"students/{sid}/report.html" for sid in students}
    for sid, results in students.items():
        (out / "students" / sid).mkdir(parents=True)
        (out / links[sid]).write_text(student_report(results, sid, class_link="../../index.html"))
    (out / "index.html").write_text(class_report(spec, students, links))
    return out, sorted(students)


def test_pages_load_cleanly(browser, site):
    out, students = site
    report, logged = browser.visit((out / "index.html").as_uri())
    assert (report["page"], logged, problems(report)) == ("class", [], [])
    assert [s["id"] for s in report["svgs"]] == ["histogram"]
    drawn = {}
    for sid in students:
        report, logged = browser.visit((out / "students" / sid / "report.html").as_uri())
        assert (report["page"], logged, problems(report)) == ("student", [], []), sid
        drawn[sid] = (len(report["images"]), len(report["svgs"]))
    assert drawn["ada"][0] >= 2 and drawn["ada"][1] == 1  # heatmaps with their colour bars, and the curves


def test_links_between_reports_work(browser, site):
    out, students = site
    index = (out / "index.html").as_uri()
    report, _ = browser.visit(index)
    targets = sorted({link["href"] for link in report["links"]})
    assert targets == sorted((out / "students" / sid / "report.html").as_uri() for sid in students)
    for target in targets:
        page, logged = browser.visit(target)
        assert page and (page["page"], page["url"], logged) == ("student", target, []), target
        back = [link["href"] for link in page["links"] if link["id"] == "class-link"]
        assert back == [index]
        page, logged = browser.visit(back[0])
        assert page and (page["page"], logged) == ("class", [])


def test_the_browser_check_sees_broken_pages(browser, tmp_path):
    """The checks above can fail: a script error, a console error, an undecodable image, a missing image file, an
    empty SVG and a link to a missing page are all caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><body data-page='broken'><img src='data:image/png;base64,iVBORw0KGgoAAAA='>"
                    "<img src='missing.png'><svg id='empty' width='0' height='10'></svg>"
                    "<script>console.error('oops'); undefined_function();</script></body>")
    report, logged = browser.visit(page.as_uri())
    assert any("oops" in e for e in logged) and any("undefined_function" in e for e in logged)
    assert any("missing.png" in e for e in logged)
    assert len([p for p in problems(report) if p.startswith("image not drawn")]) == 2
    assert [p for p in problems(report) if p.startswith("svg")] != []
    assert browser.visit((tmp_path / "nowhere.html").as_uri()) == (None, [f"{(tmp_path / 'nowhere.html').as_uri()}: "
                                                                          "net::ERR_FILE_NOT_FOUND"])


VISIBLE = "(el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)"


def test_a_pending_check_reads_as_waiting(browser, site):
    """The student sees the pending check without a cross, in grey, with the neutral words and no staff command;
    the class page shows staff the command and keeps the student out of the failures."""
    out, _ = site
    browser.visit((out / "students" / "dee" / "report.html").as_uri())
    check = browser.evaluate(f"""(() => {{
      const li = document.querySelector('li.check.pending');
      return {{mark: li.querySelector('.mark').innerText, text: li.innerText, visible: ({VISIBLE})(li),
              border: getComputedStyle(li).borderLeftColor, failed: document.querySelectorAll('li.check.failed').length,
              page: document.body.innerText}};
    }})()""")
    assert check["visible"] and check["mark"] == "…" and check["failed"] == 0
    assert "pending: graded after the deadline on the course's GPU runner" in check["text"]
    assert check["border"] == "rgb(140, 149, 159)"  # --wait, not --fail's red
    assert "graders batch" not in check["page"] and "✗" not in check["page"]
    browser.visit((out / "index.html").as_uri())
    page = browser.evaluate("""(() => ({
      command: document.getElementById('complete-command').innerText,
      pending: document.getElementById('pending').innerText,
      kinds: document.getElementById('kinds').innerText,
      heads: [...document.querySelectorAll('#students th.part')].map((th) => th.firstChild.textContent.trim()),
      machine: document.getElementById('machine-line').innerText}))()""")
    assert "--resume --profile full --runner slurm" in page["command"] and "dee" in page["pending"]
    assert "dee" not in page["kinds"] and "pending" not in page["kinds"].lower()
    assert page["heads"] == [p.id for p in specs.get("uw-cse447-a2").parts]
    assert page["machine"].startswith("Machine problems")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """`graders demo` over a tiny class of hw5 (the reference and a bug whose map is wrong): threshold checks stay
    pending, and each page has the attention maps."""
    from graders import demo

    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "chosen", lambda folder, everything: [folder / "reference", folder / "bug-mask-triu"])
        status = demo.run(out, ["jhu-cs601-hw5"])
    assert status == 0, (out / "jhu-cs601-hw5" / "journal.jsonl").read_text()  # what each sample got, if not
    return out


def test_the_demo_pages_load_cleanly(browser, demo_site):
    """The demo's index, the class report it links, a student page with a pending check and figures, and one with
    a bug's figures: drawn without errors, the index's full marks counting the reference alone, pending apart."""
    index = (demo_site / "index.html").as_uri()
    report, logged = browser.visit(index)
    assert (report["page"], logged, problems(report)) == ("demo", [], [])
    row = browser.evaluate("document.getElementById('class-jhu-cs601-hw5').innerText")
    cells = [c.strip() for c in row.split("\t")]
    assert cells[2:4] == ["2", "1\n2 with checks pending, their points left aside"], cells
    classes = [link["href"] for link in report["links"]]
    assert classes == [(demo_site / "jhu-cs601-hw5" / "index.html").as_uri()]
    report, logged = browser.visit(classes[0])
    assert (report["page"], logged, problems(report)) == ("class", [], [])
    for student in ("reference", "bug-mask-triu"):
        report, logged = browser.visit((demo_site / "jhu-cs601-hw5" / "students" / student / "report.html").as_uri())
        assert (report["page"], logged, problems(report)) == ("student", [], []), student
        shown = browser.evaluate("""(() => ({pending: document.querySelectorAll('li.check.pending').length,
          maps: [...document.querySelectorAll('figure.heatmaps')].map((f) => f.querySelectorAll('.panel').length)}))()""")
        assert shown["pending"] >= 1 and shown["maps"] == [3, 3], (student, shown)

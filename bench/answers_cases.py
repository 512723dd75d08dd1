"""The cases of the answers benchmark (bench/answers.py): real tool outputs, a question an agent would ask of
each, and the expected answer, checked by a rule.

    python bench/answers_cases.py [--out runs/answers/cases.json]   # list them (and write them)

Outputs come from real programs: the structure corpus (tests/fixtures/programs, written by
bench/corpus/make_corpus.py) and, for the shapes it lacks, programs run here (``programs()``): prose
(a licence's history and terms, pydoc of shutil functions), a database's JSON answer (sqlite3 -json over
the package database dpkg-query reports) and a long numbered source read (``cat -n textwrap.py``, over the
reader's window, so that whorf folds function bodies when the question names an identifier).

Long outputs are cut the way an agent cuts them (``| head -n N``, or the first N records of a JSON
array) to at most ``CUT_TOKENS`` o200k tokens, so that the original fits the reader's window and its score
is a ceiling; four outputs stay whole on purpose (a 300-entry listing, a 56k-token log, a test run whose
summary is at its end, a long numbered source read): there the original is truncated to the window like
every system's text, and the report says so.

Every expected answer is taken from the output itself (a regular expression or a parse), and checked to be
in it, so an answer rule never drifts from the text it is asked of. Each question is tagged:
``named`` (it names the entity it asks about: a package, a file, a test, a commit) or not (it describes
it: "which job failed?"), and ``probe``, the re-encoding it sits on on purpose: ``columnar`` (a value inside
an array of records that whorf re-encodes as columns), ``marker`` (a count or a range behind a
repetition marker), ``fold`` (a function of a source read over the window, where bodies fold),
``prose`` (a condition or fact inside prose, where words are deleted), ``listing`` (an entry of a long
listing, where rows go over the budget), or ``plain``.

The split is by output (all the questions of an output go to the same half): outputs are sorted by shape
and name and dealt alternately to ``dev`` and ``held-out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "tests" / "fixtures" / "programs"
CUT_TOKENS = 1600  # o200k tokens: a cut output still fits the reader's window with room to spare
PROBES = ("columnar", "marker", "fold", "prose", "listing", "plain")


@dataclass
class Question:
    id: str
    output: str
    question: str
    rule: str  # "any": one of ``expect`` appears in the answer; "number": the answer's first number is ``expect[0]``
    expect: list
    named: bool
    probe: str = "plain"


@dataclass
class Output:
    name: str
    shape: str
    command: str
    text: str
    source: str  # "fixture" or "program"
    cut: str = ""  # how the output was cut ("" when whole)
    split: str = ""
    questions: list[Question] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


def _count(text: str) -> int:
    from whorf.tokens import count

    return count(text)


def head_lines(text: str, max_tokens: int = CUT_TOKENS, stop: str | None = None) -> tuple[str, int]:
    """The first whole lines of ``text`` within ``max_tokens`` (ending before a line matching ``stop`` when
    given, so that a record is not cut in half), and how many lines that is."""
    lines = text.splitlines(keepends=True)
    out, used, last_ok = [], 0, 0
    for i, line in enumerate(lines):
        if stop and re.match(stop, line):
            last_ok = i
        used += _count(line)
        if used > max_tokens:
            break
        out.append(line)
    else:
        return text, len(lines)
    n = last_ok if stop and last_ok else len(out)
    return "".join(lines[:n]), n


def fixture(name: str, cut: bool = False, stop: str | None = None) -> Output:
    meta = json.loads((PROGRAMS / f"{name}.json").read_text())
    text = (PROGRAMS / f"{name}.txt").read_text()
    out = Output(name, meta["shape"], meta["command"], text, "fixture")
    if cut and _count(text) > CUT_TOKENS:
        cut_text, n = head_lines(text, CUT_TOKENS, stop)
        out.text, out.cut, out.command = cut_text, f"| head -n {n}", f"{meta['command']} | head -n {n}"
    return out


def first(pattern: str, text: str, group: int = 1, flags: int = re.M) -> str:
    m = re.search(pattern, text, flags)
    if not m:
        raise SystemExit(f"answers_cases: pattern {pattern!r} not found")
    return m.group(group)


def _run(cmd: list[str], cwd: Path | None = None, **kw) -> str:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=True, **kw).stdout


# --- outputs generated here ------------------------------------------------------------------------------


def programs(tmp: Path) -> dict[str, Output]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out: dict[str, Output] = {}
    licence = _run(["sed", "-n", "1,125p", str(stdlib / "LICENSE.txt")])
    out["prose_license"] = Output("prose_license", "prose", "sed -n 1,125p python3.11/LICENSE.txt", licence, "program")
    env = dict(os.environ, PAGER="cat", MANPAGER="cat", COLUMNS="100")
    pydoc = _run([sys.executable, "-m", "pydoc", "shutil.rmtree", "shutil.copytree", "shutil.move",
                  "shutil.disk_usage", "shutil.which"], env=env)
    pydoc = re.sub(r" at 0x[0-9a-f]+>", ">", pydoc)  # an object address, different at every run
    out["prose_pydoc"] = Output("prose_pydoc", "prose", "python -m pydoc shutil.rmtree shutil.copytree shutil.move "
                                "shutil.disk_usage shutil.which", pydoc, "program")
    # a database's JSON answer: the package database, as dpkg-query reports it, queried with sqlite3 -json
    rows = _run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Installed-Size}\t${Priority}\t${Section}\n"])
    db = tmp / "packages.db"
    sql = ["CREATE TABLE packages (package TEXT, version TEXT, installed_size INTEGER, priority TEXT, section TEXT);"]
    for line in rows.splitlines():
        p = line.split("\t")
        if len(p) == 5 and p[2].isdigit():
            vals = ", ".join("'" + v.replace("'", "''") + "'" if k != 2 else v for k, v in enumerate(p))
            sql.append(f"INSERT INTO packages VALUES ({vals});")
    _run(["sqlite3", str(db)], input="\n".join(sql))
    query = "SELECT package, version, installed_size, priority, section FROM packages ORDER BY package LIMIT 40;"
    js = _run(["sqlite3", "-json", str(db), query])
    out["json_api"] = Output("json_api", "json_records", f"sqlite3 -json packages.db '{query}'", js, "program")
    code = _run(["cat", "-n", str(stdlib / "textwrap.py")])
    out["code_fold"] = Output("code_fold", "code_numbered", "cat -n python3.11/textwrap.py", code, "program",
                              cut="whole, over the window")
    return out


# --- the questions -------------------------------------------------------------------------------------


def build(tmp: Path | None = None) -> list[Output]:
    own = tempfile.TemporaryDirectory(prefix="whorf-answers-") if tmp is None else None
    tmp = Path(own.name) if own else tmp
    try:
        gen = programs(tmp)
    finally:
        if own:
            own.cleanup()
    outs: list[Output] = []

    def add(o: Output, *qs: tuple) -> None:
        for k, (question, rule, expect, named, probe) in enumerate(qs):
            expect = [expect] if not isinstance(expect, list) else expect
            o.questions.append(Question(f"{o.name}.{k}", o.name, question, rule, expect, named, probe))
        outs.append(o)

    o = fixture("cargo_check")
    add(o, ("What error code does the compiler report?", "any", ["E0308"], False, "plain"),
        ("On which line of src/main.rs is the variable `count` declared?", "number", [7], True, "plain"))
    o = fixture("cargo_metadata_json")
    add(o, ("What is the name of the package described here?", "any", ["demo"], False, "plain"),
        ("Which Rust edition does the package `demo` use?", "any", [first(r'"edition": "(\d+)"', o.text)], True, "plain"))
    o = fixture("cat_rust")
    add(o, ("What is the return type of the function `add_rust_attribute_on_codeblock`?", "any", ["String"], True, "plain"),
        ("Which function in this file renders the error codes as HTML?", "any", ["render_html"], False, "plain"))
    o = fixture("df_h")
    add(o, ("How much space is available on /dev/vda?", "any", [first(r"^/dev/vda\s+\S+\s+\S+\s+(\S+)", o.text)], True, "plain"),
        ("Which filesystem is mounted on / ?", "any", ["/dev/vda"], False, "plain"))
    o = fixture("dpkg_l", cut=True)
    add(o, ("Which version of the package `debconf` is installed?", "any", [first(r"^ii  debconf\s+(\S+)", o.text)], True, "listing"),
        ("Which package is described as the GNU Bourne Again SHell?", "any", ["bash"], False, "plain"))
    o = fixture("find_paths")
    n_json = len(re.findall(r"^json/[^/]+\.py$", o.text, re.M))
    add(o, ("What is the path of the file scanner.py of the json package?", "any", ["json/scanner.py"], True, "listing"),
        ("How many .py files are directly inside json/ (not counting __pycache__)?", "number", [n_json], False, "plain"))
    o = fixture("gcc_wall")
    add(o, ("On which line of server.c is the error (not a warning)?", "number",
            [int(first(r"^server\.c:(\d+):\d+: error", o.text))], False, "plain"),
        ("In the function `parse_port`, which function is implicitly declared?", "any", ["atoi"], True, "plain"))
    o = fixture("git_diff")
    add(o, ("What is the new default timeout in `handler_3_1`?", "number",
            [int(first(r"^\+.*'timeout', (\d+)\)", o.text))], True, "plain"),
        ("Which exception does the added line raise?", "any", ["TimeoutError"], False, "plain"))
    o = fixture("git_grep")
    add(o, ("What default timeout does line 18 of service_07.py use?", "number",
            [int(first(r"^service_07\.py:18:.*'timeout', (\d+)\)", o.text))], True, "marker"),
        ("How many different files have matches?", "number", [len(set(re.findall(r"^([^:]+):", o.text, re.M)))], False, "marker"))
    o = fixture("git_log", cut=True, stop=r"^commit ")
    commits = re.findall(r"^commit (\w+)\n.*\n.*\n\n    (.*)", o.text, re.M)
    target = next(c for c in commits[2:] if len(c[1].split()) >= 5)
    add(o, (f"What is the full hash of the commit whose subject starts with '{' '.join(target[1].split()[:5])}'?",
            "any", [target[0], target[0][:7]], True, "plain"),
        ("On which day was the most recent commit made?", "any",
         _date_forms(first(r"^Date:\s+(.*)", o.text)), False, "plain"))
    o = fixture("git_log_oneline", cut=True)
    lines = o.text.splitlines()
    pick = lines[len(lines) // 2].split(" ", 1)
    add(o, (f"What is the short hash of the commit '{pick[1][:70]}'?", "any", [pick[0]], True, "listing"),
        ("What is the short hash of the oldest commit listed?", "any", [lines[-1].split()[0]], False, "listing"))
    o = fixture("git_log_stat", cut=True, stop=r"^commit ")
    add(o, ("In the most recent commit, how many lines changed in bench/corpus/peer_headroom.py?", "number",
            [int(first(r"bench/corpus/peer_headroom\.py\s+\|\s+(\d+)", o.text))], True, "plain"),
        ("How many files changed in the most recent commit?", "number", [int(first(r"^ (\d+) files? changed", o.text))], False, "plain"))
    o = fixture("git_ls_files")
    add(o, ("What is the path of the file proxy_load.py?", "any", [first(r"^(\S*proxy_load\.py)$", o.text)], True, "listing"),
        ("Which file in the listing is the CI script (under .ci)?", "any", [first(r"^(\.ci/\S+)$", o.text)], False, "plain"))
    o = fixture("http_server_log", cut=True)
    k = max(int(x) for x in re.findall(r"report-(\d+)\.csv", o.text))
    add(o, ("Which path was served successfully (status 200)?", "any", ["/index.html"], False, "marker"),
        (f"What status code did the request for /missing/report-{k}.csv get?", "number",
         [int(first(rf'report-{k}\.csv HTTP/1\.1" (\d+)', o.text))], True, "marker"),
        ("How many requests got the status 404?", "number", [len(re.findall(r'" 404 ', o.text))], False, "marker"))
    o = _json_head(fixture("json_commits"))
    rows = json.loads(o.text)
    a, b = rows[3], rows[min(9, len(rows) - 1)]
    add(o, (f"What is the date of commit {a['hash'][:7]}?", "any", [a["date"], a["date"][:10]], True, "columnar"),
        (f"Which commit (hash) has the subject starting '{' '.join(b['subject'].split()[:4])}'?", "any",
         [b["hash"][:7]], False, "columnar"))
    o = fixture("json_jobs")
    jobs = json.loads(o.text)["jobs"]
    bad = next(j for j in jobs if j["status"] != "success")
    add(o, ("Which job failed?", "any", [bad["job"]], False, "columnar"),
        (f"What command did the job {bad['job']} run?", "any", [bad["command"]], True, "columnar"))
    o = fixture("log_file_prefixed")
    o.cut = "whole, over the window"
    inst = first(r"Instance ([0-9a-f-]{36}) could not be found", o.text)
    claim = re.search(r"\[instance: ([0-9a-f-]{36})\] Attempting claim: memory (\d+) MB", o.text)
    add(o, ("Which instance could not be found?", "any", [inst, inst[:8]], False, "marker"),
        (f"How much memory (MB) did the claim for instance {claim.group(1)} attempt?", "number", [int(claim.group(2))], True, "listing"))
    o = fixture("ls_long")
    o.cut = "whole, over the window"
    files = re.findall(r"^-\S+\s+\d+\s+\S+\s+\S+\s+(\d+) .{12} (\S+)$", o.text, re.M)
    late = [f for f in files[len(files) * 2 // 3:] if o.text.count(f[1]) == 1][0]
    add(o, (f"What is the size in bytes of {late[1]}?", "number", [int(late[0])], True, "listing"),
        ("What total is shown on the first line?", "number", [int(first(r"^total (\d+)", o.text))], False, "plain"))
    o = fixture("node_traceback")
    add(o, ("What type of error was thrown?", "any", ["TypeError"], False, "plain"),
        ("At which line:column of app.js did `loadUser` fail?", "any", [first(r"at loadUser \(.*app\.js:(\d+:\d+)\)", o.text)], True, "plain"))
    o = fixture("pip_list")
    add(o, ("Which version of httpx is installed?", "any", [first(r"^httpx\s+(\S+)", o.text)], True, "listing"),
        ("Which package is installed in editable mode from a local project?", "any", [first(r"^(\S+)\s+\S+\s+/\S+", o.text)], False, "plain"))
    o = fixture("pip_list_json")
    pk = json.loads(o.text)
    hyp = next(p for p in pk if p["name"] == "hypothesis")
    cert = next(p for p in pk if p["name"] == "certifi")
    add(o, ("What version of hypothesis is installed?", "any", [hyp["version"]], True, "columnar"),
        (f"Which package has version {cert['version']}?", "any", ["certifi"], False, "columnar"))
    o = fixture("ps_table")
    sleeps = re.findall(r"^\S+\s+(\d+)\s+\d+\s+(\S+)\s+(\d+)\s+\S+\s+sleep$", o.text, re.M)
    add(o, ("What is the highest PID among the sleep processes in state S?", "number",
            [max(int(p) for p, s, _ in sleeps if s == "S")], True, "marker"),
        ("Which process is stopped (state T)? Give its PID.", "number", [int(next(p for p, s, _ in sleeps if s == "T"))], False, "marker"),
        ("What is the RSS of the python process?", "number", [int(first(r"^\S+\s+\d+\s+\d+\s+\S+\s+(\d+)\s+\S+\s+python$", o.text))], True, "plain"))
    o = fixture("pytest_many")
    o.cut = "whole, over the window"
    add(o, ("How many tests failed?", "number", [int(first(r"=+ (\d+) failed", o.text))], False, "marker"),
        ("What is the highest parameter index of test_api_param?", "number",
         [max(int(x) for x in re.findall(r"test_api_param\[(\d+)\]", o.text))], True, "marker"),
        ("Which assertion failed in test_invoice_total_includes_tax?", "any", [first(r"^E\s+assert (107\.0 == 107\.5)", o.text)], True, "plain"))
    o = fixture("python_traceback")
    add(o, ("What exception was raised?", "any", ["JSONDecodeError"], False, "plain"),
        ("At which column does the JSON decoder report the error?", "number", [int(first(r"column (\d+)", o.text))], True, "plain"))
    o = fixture("readme_markdown")
    add(o, ("Which Python version does HTTPX require?", "any", [first(r"requires Python (3\.\d+)", o.text)], True, "prose"),
        ("What command installs the package?", "any", ["pip install httpx"], False, "plain"))
    o = fixture("sqlite_column")
    add(o, ("How many attempts did nightly-export-041 take?", "number",
            [int(first(r"^41\s+nightly-export-041\s+\S+\s+(\d+)", o.text))], True, "plain"),
        ("Which job has the status failed?", "any", ["nightly-export-041"], False, "plain"))
    o = fixture("pytest_verbose")
    add(o, ("Which test failed?", "any", [first(r"^FAILED \S+::(\w+)", o.text)], False, "plain"),
        ("How many tests passed in tests/test_records.py?", "number", [int(first(r"(\d+) passed", o.text))], True, "plain"))
    o = fixture("ps_aux")
    add(o, ("What is the PID of the http.server process?", "number", [int(first(r"^\S+\s+(\d+) .*-m http\.server", o.text))], True, "plain"),
        ("Which command is in the stopped state (T)?", "any", [first(r"^(?:\S+\s+){7}T\s+(?:\S+\s+){2}(.*)$", o.text)], False, "plain"))
    o = fixture("python_compileall")
    add(o, ("Which file failed to compile?", "any", ["broken_config.py"], False, "plain"),
        ("What syntax error does pkg/broken_config.py have?", "any", [first(r"SyntaxError: (.*)", o.text)], True, "plain"))
    o = gen["prose_license"]
    add(o, ("Under the PSF License Agreement, what must a Licensee who prepares a derivative work agree to include in it?",
            "any", ["brief summary"], True, "prose"),
        ("When does the License Agreement automatically terminate?", "any", ["breach"], False, "prose"),
        ("In which year was the Python Software Foundation formed?", "number", [2001], True, "prose"),
        ("In which country was Python created?", "any", ["Netherlands"], False, "prose"))
    o = gen["prose_pydoc"]
    add(o, ("In shutil.rmtree, what happens if ignore_errors is false and onerror is None?", "any",
            ["exception", "raise", "error"], True, "prose"),
        ("Which function returns the total, used and free disk space?", "any", ["disk_usage"], False, "prose"))
    o = gen["json_api"]
    pk = json.loads(o.text)
    mid = pk[len(pk) // 2]
    big = max(pk, key=lambda p: p["installed_size"])
    add(o, (f"What is the installed size of the package {mid['package']}?", "number", [mid["installed_size"]], True, "columnar"),
        ("Which package has the largest installed size?", "any", [big["package"]], False, "columnar"))
    o = gen["code_fold"]
    add(o, ("What is the default value of break_on_hyphens in TextWrapper.__init__?", "any",
            [first(r"break_on_hyphens=(\w+)", o.text)], True, "fold"),
        ("In _handle_long_word, what value does space_left get when width is less than 1?", "number",
         [int(first(r"if width < 1:\n\s*\d+\s+space_left = (\d+)", o.text))], True, "fold"),
        ("What does the function `shorten` pass as max_lines to TextWrapper?", "number",
         [int(first(r"TextWrapper\(width=width, max_lines=(\d+)", o.text))], True, "fold"),
        ("Which class attribute holds the regular expression that detects the end of a sentence?", "any",
         ["sentence_end_re"], False, "fold"))
    _check(outs)
    _split(outs)
    return outs


def _date_forms(date: str) -> list[str]:
    """'Tue Dec 1 09:16:58 2026 +0000' -> the ways an answer may give that day."""
    p = date.split()
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    iso = f"{p[4]}-{months.index(p[1]) + 1:02d}-{int(p[2]):02d}"
    return [f"{p[1]} {p[2]}", iso, f"{p[2]} {p[1]}", f"{p[1]} {int(p[2]):02d}"]


def _json_head(o: Output) -> Output:
    """The first records of a JSON array within CUT_TOKENS, in the program's own layout (indent 2)."""
    rows = json.loads(o.text)
    assert json.dumps(rows, indent=2) == o.text, "layout changed"
    k = len(rows)
    while k > 1 and _count(json.dumps(rows[:k], indent=2)) > CUT_TOKENS:
        k -= 1
    if k < len(rows):
        o.text = json.dumps(rows[:k], indent=2)
        o.cut = f"first {k} of {len(rows)} records"
        o.command = o.command.replace("git log -n 60", f"git log -n {k}")
    return o


def _check(outs: list[Output]) -> None:
    names = [o.name for o in outs]
    assert len(names) == len(set(names)), "duplicate output"
    for o in outs:
        for q in o.questions:
            assert q.probe in PROBES, q.probe
            if q.rule == "any":
                assert any(str(e) in o.text for e in q.expect) or q.probe == "fold", (q.id, q.expect)
            elif q.rule == "number":
                assert len(q.expect) == 1 and isinstance(q.expect[0], int), q.id
            else:
                raise AssertionError(q.rule)


def _split(outs: list[Output]) -> None:
    for i, o in enumerate(sorted(outs, key=lambda o: (o.shape, o.name))):
        o.split = "dev" if i % 2 == 0 else "held-out"


def questions(outs: list[Output]) -> list[Question]:
    return [q for o in outs for q in o.questions]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    outs = build()
    qs = questions(outs)
    for o in outs:
        sys.stdout.write(f"{o.split:8s} {o.name:22s} {o.shape:18s} {_count(o.text):6d} tok {o.cut or ''}\n")
        for q in o.questions:
            sys.stdout.write(f"    [{'N' if q.named else 'U'} {q.probe:8s}] {q.question} -> {q.rule} {q.expect}\n")
    sys.stdout.write(f"{len(outs)} outputs, {len(qs)} questions ({sum(q.named for q in qs)} named), "
                     f"shapes: {len({o.shape for o in outs})}, dev {sum(o.split == 'dev' for o in outs)} outputs / "
                     f"{sum(len(o.questions) for o in outs if o.split == 'dev')} questions\n")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps([asdict(o) | {"sha": o.sha} for o in outs], indent=1) + "\n")


if __name__ == "__main__":
    main()

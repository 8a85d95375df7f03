"""The script tracer (`twins/dojo/script.py`, what `asyncdojo trace SCRIPT` runs), field by field,
on ordinary asyncio programs that know nothing of it. Each script runs exactly as asyncdojo starts
it (tracerun.py: the boot program, the bundle on stdin, the channel on stdout).

    python3 tests/scripts/test_tracer.py            # or: cargo test --test script_tracer_py

Standard library only; run under each interpreter to test (3.11, 3.12, 3.13).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tracerun  # noqa: E402

HERE = tracerun.SCRIPTS
ROOT = tracerun.ROOT


def path(name):
    return os.path.join(HERE, name)


def by_name(run):
    return {t["name"]: t for t in run["tasks"]}


def trace(script, *args, clock="virtual", **kw):
    return tracerun.trace(path(script), list(args), clock=clock, **kw)


class Channel(unittest.TestCase):
    """What every traced script gets: the messages and their order."""

    def assert_channel(self, r, runs=1):
        kinds = [next(iter(m)) for m in r.messages]
        self.assertEqual(kinds[0], "files", kinds)
        self.assertEqual(kinds[-1], "exit", kinds)
        self.assertEqual(kinds.count("exit"), 1)
        self.assertEqual(kinds.count("run"), runs, kinds)
        self.assertTrue(set(kinds) <= {"files", "live", "run", "stdout", "note", "exit"})
        # Every document points only into files asyncdojo has been told of by then.
        told = 0
        for m in r.messages:
            if "files" in m:
                told = len(m["files"])
            for key in ("live", "run"):
                if key in m:
                    for t in m[key]["runs"][0]["tasks"]:
                        self.assertLess(t.get("file", 0), told)
        for doc in r.docs:
            self.assert_document(doc, r)

    def assert_document(self, doc, r):
        self.assertEqual(doc["format_version"], 3)
        self.assertEqual(doc["runtime"], "asyncio")
        self.assertEqual(doc["params"], {})
        self.assertEqual(doc["origin"]["script"], r.files[0])
        self.assertEqual(doc["demo"], os.path.basename(r.files[0]))
        self.assertEqual(len(doc["runs"]), 1)
        run = doc["runs"][0]
        self.assertEqual(run["runtime"], "asyncio")
        allowed = {"id", "name", "parent", "spawned_ms", "finished_ms", "outcome", "detail",
                   "polls", "seqs", "line", "file"}
        ids = [t["id"] for t in run["tasks"]]
        self.assertEqual(ids, list(range(1, len(ids) + 1)))
        for t in run["tasks"]:
            self.assertLessEqual(set(t), allowed, t)
            self.assertTrue(t["parent"] is None or t["parent"] in ids)
            self.assertEqual(t["seqs"], sorted(set(t["seqs"])), t["name"])
            self.assertEqual(len(t["seqs"]), 1 + len(t["polls"]) + (t["finished_ms"] is not None))
            self.assertNotEqual(t.get("file"), 0, "file 0 is written as no file")


class Programs(Channel):
    def test_gather_lanes_parents_outcomes_times_and_lines(self):
        r = trace("gather_requests.py")
        self.assert_channel(r)
        run = r.runs[0]
        self.assertEqual(run["variant"], "run 1")
        self.assertEqual(run["total_ms"], 300.0)
        main, *children = run["tasks"]
        self.assertEqual((main["name"], main["parent"], main["outcome"], main["finished_ms"],
                          main["line"]), ("main", None, "ok", 300.0, 18))
        self.assertEqual(
            [(t["parent"], t["outcome"], t["detail"], t["finished_ms"], t["line"])
             for t in children],
            [(1, "ok", "100 ms", 100.0, 10), (1, "ok", "300 ms", 300.0, 10),
             (1, "ok", "200 ms", 200.0, 10)],
        )
        # Unnamed Tasks keep asyncio's own names: what the script itself would see.
        self.assertTrue(all(re.fullmatch(r"Task-\d+", t["name"]) for t in children))
        self.assertEqual(r.stdout, "['100 ms', '300 ms', '200 ms']\n")
        self.assertEqual(r.exit, {"code": 0, "error": None})
        self.assertEqual(r.notes, [])

    def test_taskgroup_one_child_raises_the_others_are_cancelled(self):
        r = trace("taskgroup_fails.py")
        self.assert_channel(r)
        t = by_name(r.runs[0])
        self.assertEqual(
            {n: (t[n]["parent"], t[n]["outcome"], t[n]["finished_ms"], t[n]["line"])
             for n in t},
            {"main": (None, "ok", 200.0, 21), "a": (1, "ok", 100.0, 14),
             "b": (1, "error", 200.0, 15), "c": (1, "cancelled", 200.0, 16)},
        )
        self.assertEqual(t["b"]["detail"], "ValueError: b failed")
        self.assertEqual(r.stdout, "caught ['b failed']\n")

    def test_bounded_queue_producer_and_consumer_finish_times(self):
        r = trace("producer_consumer.py")
        self.assert_channel(r)
        t = by_name(r.runs[0])
        # The producer puts 5 items and a None into a queue of 2, one each 10 ms; the consumer
        # takes 30 ms an item: the queue is full from 40 ms and the None goes in at 90 ms.
        self.assertEqual(
            {n: (t[n]["parent"], t[n]["outcome"], t[n]["finished_ms"]) for n in t},
            {"main": (None, "ok", 150.0), "producer": (1, "ok", 90.0),
             "consumer": (1, "ok", 150.0)},
        )
        self.assertEqual(t["consumer"]["detail"], "consumed 5")
        self.assertEqual((t["producer"]["line"], t["consumer"]["line"]), (23, 24))

    def test_asyncio_timeout_and_wait_for(self):
        r = trace("timeouts.py")
        self.assert_channel(r)
        # On every version the same lanes: 3.11's wait_for helper Task is not one.
        self.assertEqual(
            [(t["name"], t["parent"], t["outcome"], t["finished_ms"], t["line"])
             for t in r.runs[0]["tasks"]],
            [("main", None, "ok", 250.0, 26), ("timeout", 1, "timeout", 100.0, 19),
             ("wait_for", 1, "ok", 50.0, 20), ("wait_for late", 1, "timeout", 250.0, 21)],
        )
        self.assertEqual(r.stdout, "['TimeoutError', '50 ms', 'TimeoutError']\n")

    def test_to_thread_is_noted_on_the_virtual_clock_and_timed_on_the_real_one(self):
        r = trace("to_thread.py")
        self.assert_channel(r)
        self.assertEqual(len(r.notes), 1)
        self.assertIn("run 1 waited on a thread (asyncio.to_thread at to_thread.py:12)",
                      r.notes[0])
        self.assertIn("--clock real", r.notes[0])
        real = trace("to_thread.py", clock="real")
        self.assert_channel(real)
        self.assertEqual(real.notes, [])
        t = by_name(real.runs[0])
        self.assertGreaterEqual(t["main"]["finished_ms"], 100.0)
        self.assertGreaterEqual(t["ticker"]["finished_ms"], 50.0)
        self.assertEqual(real.stdout, "slept 100 ms\n")

    def test_loopback_server_and_client(self):
        r = trace("loopback.py", clock="real")
        self.assert_channel(r)
        self.assertEqual(r.notes, [])
        tasks = r.runs[0]["tasks"]
        clients = [t for t in tasks if t["parent"] == 1]
        self.assertEqual(sorted(t["detail"] for t in clients),
                         ["echo hello 0", "echo hello 1", "echo hello 2"])
        self.assertTrue(all(t["line"] == 26 and t["outcome"] == "ok" for t in clients))
        # start_server calls back from the loop, outside any task: handlers have no parent and
        # no creation line in the script.
        handlers = [t for t in tasks if t["parent"] is None and t["name"] != "main"]
        self.assertEqual(len(handlers), 3)
        self.assertTrue(all("line" not in t and t["outcome"] == "ok" for t in handlers))
        self.assertEqual(r.stdout, "['echo hello 0', 'echo hello 1', 'echo hello 2']\n")
        virtual = trace("loopback.py")
        self.assert_channel(virtual)
        joined = "\n".join(virtual.notes)
        self.assertIn("waited on a socket (asyncio.start_server at loopback.py:23)", joined)
        self.assertIn("waited on a socket (asyncio.open_connection at loopback.py:13)", joined)

    def test_a_script_that_raises_reports_its_exit_code_and_a_readable_traceback(self):
        r = trace("raises.py")
        self.assert_channel(r)
        main = by_name(r.runs[0])["main"]
        self.assertEqual((main["outcome"], main["detail"], main["finished_ms"]),
                         ("error", "ZeroDivisionError: division by zero", 100.0))
        self.assertEqual(r.runs[0]["error"],
                         "the script's main raised ZeroDivisionError: division by zero")
        self.assertEqual(r.exit["code"], 1)
        tb = r.exit["error"]
        self.assertTrue(tb.startswith(
            'Traceback (most recent call last):\n  File "%s", line 14, in <module>\n'
            % path("raises.py")), tb)
        self.assertIn('File "%s", line 6, in divide\n    return a / b' % path("raises.py"), tb)
        # asyncio.run's frames between the script's line and its main, in one line.
        self.assertRegex(tb, r'\n  \(3 asyncio frames\)\n  File "[^"]+", line 11, in main\n')
        self.assertNotIn("base_events.py", tb)
        self.assertTrue(tb.endswith("ZeroDivisionError: division by zero\n"), tb)
        self.assertNotIn("<asyncdojo>", tb)
        self.assertNotIn("runpy", tb)
        self.assertEqual(r.stdout, "about to divide\n")
        self.assertEqual(r.returncode, 1)

    def test_a_script_that_never_ends_stops_when_asyncdojo_closes_its_stdin(self):
        started = []

        def stop_at_first_live(m):
            if "live" in m and not started:
                started.append(time.monotonic())
                return True
            return False

        r = trace("never_ends.py", clock="real", on_message=stop_at_first_live, timeout=20)
        self.assertTrue(started, "a live document came before the stop")
        self.assertLess(time.monotonic() - started[0], 2.0, "it stopped well within its grace")
        kinds = [next(iter(m)) for m in r.messages]
        self.assertEqual(kinds[-1], "exit")
        ticker = by_name(r.runs[0])["ticker"]
        self.assertEqual(ticker["outcome"], "cancelled")

    def test_stdout_that_looks_like_the_channel_stays_stdout(self):
        r = trace("prints_json.py")
        self.assert_channel(r)
        self.assertEqual(r.notes, [])
        self.assertEqual(r.exit, {"code": 0, "error": None})
        lines = r.stdout.splitlines()
        self.assertEqual(lines.count('{"exit": {"code": 99, "error": null}}'), 200)
        self.assertEqual(sum(ln.startswith('{"run": {"fake": ') for ln in lines), 200)
        self.assertIn('{"note": "written with os.write"}', lines)
        self.assertIn("from a child process", lines)
        self.assertIn("x" * 200_000, lines)
        self.assertEqual(lines[-1], "done")

    def test_ten_thousand_tasks(self):
        started = time.monotonic()
        r = trace("ten_thousand.py")
        took = time.monotonic() - started
        self.assert_channel(r)
        run = r.runs[0]
        self.assertEqual(len(run["tasks"]), 10_001)
        for i, t in enumerate(run["tasks"][1:]):
            self.assertEqual((t["name"], t["parent"], t["outcome"], t["finished_ms"]),
                             ("work %d" % i, 1, "ok", float(i % 10)))
        self.assertEqual(run["total_ms"], 9.0)
        self.assertEqual(r.stdout, "%d\n" % sum(range(10_000)))
        self.assertLess(took, 30.0)

    def test_a_loop_factory_of_its_own_is_noted_not_traced(self):
        r = trace("own_loop_factory.py")
        self.assert_channel(r, runs=0)
        self.assertEqual(len(r.notes), 1, r.notes)
        self.assertIn("event loop of its own, MyLoop (asyncio.Runner.run at "
                      "own_loop_factory.py:14)", r.notes[0])
        self.assertEqual(r.stdout, "ran on MyLoop\n")
        self.assertEqual(r.exit["code"], 0)

    def test_a_loop_factory_making_asyncios_own_loops_is_traced(self):
        r = trace("loop_factory_asyncio.py")
        self.assert_channel(r, runs=2)
        self.assertEqual(r.notes, [])
        for run in r.runs:
            self.assertEqual(
                [(t["name"], t["parent"], t["finished_ms"]) for t in run["tasks"]],
                [("main", None, 30.0), ("nap", 1, 30.0)],
            )

    def test_a_policy_of_its_own_is_noted(self):
        r = trace("custom_policy.py")
        self.assert_channel(r, runs=0)
        self.assertEqual(len(r.notes), 2, r.notes)
        self.assertIn("its own event loop policy (MyPolicy at custom_policy.py:18)", r.notes[0])
        self.assertIn("MyLoop (asyncio.run at custom_policy.py:19)", r.notes[1])
        self.assertEqual(r.stdout, "ran on MyLoop\n")

    def test_a_loop_in_another_thread_is_noted(self):
        r = trace("thread_loop.py")
        self.assert_channel(r)
        self.assertEqual(r.notes, [
            "an event loop ran in another thread (worker-thread, asyncio.run at "
            "thread_loop.py:15): asyncdojo follows only the main thread's loops, so its tasks "
            "are not drawn"])
        self.assertEqual([t["name"] for t in r.runs[0]["tasks"]], ["main", "foreground"])

    def test_no_asyncio_at_all_is_noted(self):
        r = trace("no_asyncio.py", "x")
        self.assert_channel(r, runs=0)
        self.assertEqual(r.notes,
                         ["the script ran no asyncio event loop: there are no tasks to draw"])
        self.assertEqual(r.stdout, "just a plain script with 1 arguments\n")

    def test_each_asyncio_run_is_its_own_run(self):
        r = trace("two_runs.py")
        self.assert_channel(r, runs=2)
        first, second = r.runs
        self.assertEqual((first["variant"], first["total_ms"]), ("run 1", 100.0))
        self.assertEqual((second["variant"], second["total_ms"]), ("run 2", 200.0))
        self.assertEqual(
            [(t["name"], t["parent"], t["finished_ms"]) for t in second["tasks"]],
            [("main", None, 200.0), ("inner", 1, 200.0)],
        )

    def test_run_until_complete_on_a_new_event_loop_is_traced(self):
        r = trace("raw_loop.py")
        self.assert_channel(r)
        self.assertEqual(
            [(t["name"], t["outcome"], t["detail"], t["finished_ms"], t["line"])
             for t in r.runs[0]["tasks"]],
            [("main", "ok", "worked", 50.0, 10)],
        )

    def test_a_loop_never_closed_still_gives_its_run_when_the_script_ends(self):
        r = trace("unclosed_loop.py")
        self.assert_channel(r)
        self.assertEqual(
            [(t["name"], t["outcome"], t["finished_ms"]) for t in r.runs[0]["tasks"]],
            [("main", "ok", 40.0), ("left waiting", "cancelled", 40.0)],
        )
        self.assertEqual(by_name(r.runs[0])["left waiting"]["detail"],
                         "still pending when the run ended")

    def test_sys_exit_gives_the_exit_code(self):
        r = trace("exit_code.py")
        self.assert_channel(r)
        self.assertEqual(r.exit, {"code": 3, "error": None})
        self.assertEqual(r.returncode, 3)

    def test_argv_path_stdin_and_main_are_as_python_script_gives_them(self):
        r = trace("argv_and_stdin.py", "a", "b c")
        self.assert_channel(r)
        seen = json.loads(r.stdout)
        self.assertEqual(seen, {
            "argv": [path("argv_and_stdin.py"), "a", "b c"],
            "path0": HERE,
            "stdin": "",
            "cwd": HERE,
            "name": "__main__",
            "file": path("argv_and_stdin.py"),
        })
        self.assertEqual(r.docs[0]["origin"],
                         {"script": path("argv_and_stdin.py"), "args": ["a", "b c"]})

    def test_argv0_stays_as_typed_while_file_is_absolute(self):
        # `python3 argv_and_stdin.py a` gives argv[0] as typed; runpy would make it absolute.
        r = tracerun.trace("argv_and_stdin.py", ["a"], clock="virtual", cwd=HERE, as_typed=True)
        self.assert_channel(r)
        seen = json.loads(r.stdout)
        self.assertEqual(seen["argv"], ["argv_and_stdin.py", "a"])
        self.assertEqual(seen["file"], path("argv_and_stdin.py"))
        self.assertEqual(seen["name"], "__main__")
        self.assertEqual(r.files, [path("argv_and_stdin.py")])
        sub = tracerun.trace(os.path.join("lib", "..", "argv_and_stdin.py"), [], cwd=HERE,
                             as_typed=True)
        self.assertEqual(json.loads(sub.stdout)["argv"],
                         [os.path.join("lib", "..", "argv_and_stdin.py")])

    def test_library_frames_in_a_traceback_are_summarised(self):
        r = trace("library_frames.py", clock="real")
        tb = r.exit["error"]
        self.assertEqual(r.exit["code"], 1)
        # The user's frames in full; asyncio's runner and loop, and the pool's thread, in a line.
        files = re.findall(r'File "([^"]+)"', tb)
        self.assertEqual(files, [path("library_frames.py")] * 3, tb)
        self.assertRegex(tb, r'asyncio\.run\(main\(\)\)\n(?:.*\n)?  \(\d+ asyncio frames\)\n  '
                             r'File "[^"]+", line 12, in main\n')
        self.assertIn("\n  (1 concurrent frame)\n  File", tb)
        self.assertTrue(tb.endswith("KeyError: 'missing'\n"), tb)
        self.assertNotIn("runners.py", tb)

    def test_lines_in_another_user_file_point_at_it(self):
        r = trace("uses_module.py")
        self.assert_channel(r)
        self.assertEqual(r.files, [path("uses_module.py"), path(os.path.join("lib", "jobs.py"))])
        kinds = [next(iter(m)) for m in r.messages]
        self.assertLess(max(i for i, m in enumerate(r.messages) if "files" in m),
                        kinds.index("run"))
        self.assertEqual(
            [(t["name"], t.get("file"), t.get("line")) for t in r.runs[0]["tasks"]],
            [("main", None, 14), ("job 100", 1, 12), ("direct", None, 9)],
        )

    def test_a_subprocess_on_the_virtual_clock_is_noted_once(self):
        r = trace("subprocess_wait.py")
        self.assert_channel(r)
        self.assertEqual(len(r.notes), 1, r.notes)
        self.assertIn("run 1 waited on a subprocess (asyncio.create_subprocess_exec at "
                      "subprocess_wait.py:6)", r.notes[0])
        self.assertEqual(r.stdout, "child says hi\n")

    def test_an_exception_never_retrieved_is_a_mark_and_still_reported_on_stderr(self):
        r = trace("fire_and_forget.py")
        self.assert_channel(r)
        labels = [m["label"] for m in r.runs[0]["marks"]]
        self.assertIn(
            "Task exception was never retrieved: ConnectionError: nobody is listening", labels)
        self.assertIn("Task exception was never retrieved", r.stderr)
        self.assertEqual(by_name(r.runs[0])["forgotten"]["outcome"], "error")

    def test_live_documents_on_the_real_clock_at_most_every_200_ms(self):
        arrivals = []
        r = trace("slow_real.py", clock="real",
                  on_message=lambda m: arrivals.append((time.monotonic(), m)) and False)
        self.assert_channel(r, runs=2)
        live = [(t, m["live"]["runs"][0]) for t, m in arrivals if "live" in m]
        self.assertGreaterEqual(len(live), 4)
        self.assertEqual({run["variant"] for _, run in live}, {"run 1", "run 2"})
        for (t0, _), (t1, _) in zip(live, live[1:]):
            self.assertGreater(t1 - t0, 0.15)
        # A live document shows the run so far: main still running.
        self.assertTrue(all(run["tasks"][0]["outcome"] == "running" for _, run in live))
        kinds = [next(iter(m)) for _, m in arrivals]
        first_run = kinds.index("run")
        self.assertIn("live", kinds[:first_run])
        virtual = trace("slow_real.py")
        self.assertNotIn("live", [next(iter(m)) for m in virtual.messages])

    def test_threads_an_open_executor_and_atexit_finish_before_the_exit_message(self):
        r = trace("leaves_executor.py", clock="real", timeout=20)
        self.assert_channel(r)
        self.assertEqual(r.exit, {"code": 0, "error": None})
        lines = r.stdout.splitlines()
        self.assertEqual(sorted(lines), sorted([
            "a thread the script did not join", "from a pool thread", "atexit handler ran"]))
        self.assertEqual(lines[-1], "atexit handler ran")

    def test_a_deadlock_on_the_virtual_clock_is_noted_and_ends_the_script(self):
        r = trace("deadlock.py")
        self.assert_channel(r)
        self.assertEqual(r.notes, [
            "run 1 stopped at 250 ms on the virtual clock: every task was waiting and no timer "
            "was set, so nothing could ever wake them (on the real clock the script would hang "
            "there)"])
        self.assertEqual(r.exit["code"], 1)
        self.assertIn("RuntimeError: deadlock", r.exit["error"])
        waiter = by_name(r.runs[0])["waiter"]
        self.assertEqual((waiter["parent"], waiter["outcome"], waiter["spawned_ms"]),
                         (1, "cancelled", 250.0))

    def test_arguments_it_does_not_know_are_refused(self):
        r = trace("gather_requests.py", extra={"bogus": 1})
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown argument bogus", r.stderr)
        self.assertEqual(r.messages, [])

    def test_workers_behind_a_semaphore_and_a_bounded_queue(self):
        r = trace("workers_budget.py", "200", "10")
        self.assert_channel(r)
        tasks = r.runs[0]["tasks"]
        self.assertEqual(len(tasks), 202)
        self.assertTrue(all(t["outcome"] == "ok" for t in tasks))
        self.assertEqual(r.stdout, "%d\n" % sum(range(2000)))
        # Each worker stepped at least once per await it made.
        self.assertTrue(all(len(t["polls"]) >= 10 for t in tasks[2:]))

    def test_on_the_real_clock_wakes_and_parks_are_dated_as_the_polls_are(self):
        # The same origin and the same whole microseconds as the polls: a park is dated by the
        # end of the poll it follows, and a wake comes no later than the poll it caused.
        r = trace("uses_module.py", clock="real")
        run = r.runs[0]
        ends = {(t["id"], end) for t in run["tasks"] for _, end in t["polls"]}
        self.assertTrue(run["parks"])
        for park in run["parks"]:
            self.assertIn((park[0], park[1]), ends, park)
        starts = {}
        for t in run["tasks"]:
            for (start, _), seq in zip(t["polls"], t["seqs"][1:]):
                starts[seq] = (t["id"], start)
        polls = sorted(starts.items())
        for wake in run["wakes"]:
            self.assertEqual(wake[1], round(wake[1], 3), wake)
            nxt = next(((seq, p) for seq, p in polls if seq > wake[0] and p[0] == wake[2]), None)
            if nxt is not None:
                self.assertLessEqual(wake[1], nxt[1][1], wake)

    def test_a_loop_that_alternates_awaits_is_parked_at_each_in_turn(self):
        # Each await of the loop, every time (the tracer remembers each await's line and what
        # it waits in by the shape of the await chain, not only the lane's last one).
        r = trace("workers_budget.py", "300", "3")
        run = r.runs[0]
        names = {t["id"]: t["name"] for t in run["tasks"]}
        within = {12: "asyncio.Semaphore.acquire", 13: "asyncio.sleep", 14: "asyncio.Queue.get"}
        by_task = {}
        for task, _, line, what in run["parks"]:
            by_task.setdefault(task, []).append((line, what))
        workers = [t for t in by_task if names[t].startswith("worker")]
        self.assertEqual(len(workers), 300)
        for task in workers:
            parks = by_task[task]
            self.assertEqual([p for p in parks if p[0] not in within], [], names[task])
            self.assertEqual([p for p in parks if within[p[0]] != p[1]], [], names[task])
            # sleep(0) parks each time; one listed again only after another park in between.
            self.assertIn(sum(p[0] == 13 for p in parks), (1, 2, 3), names[task])
            self.assertTrue(all(a != b for a, b in zip(parks, parks[1:])), names[task])
        self.assertTrue(any(p[0] == 12 for t in workers for p in by_task[t]))

    def test_parks_point_into_the_users_files_when_recorded(self):
        r = trace("uses_module.py")
        run = r.runs[0]
        # main waits in gather at the script's line 10; both jobs sleep at line 7 of lib/jobs.py
        # (file 1): a park in another user file says which, one in the script says none.
        self.assertEqual(
            run["parks"],
            [[1, 0.0, 10, "asyncio.gather"], [2, 0.0, 7, "asyncio.sleep", 1],
             [3, 0.0, 7, "asyncio.sleep", 1]],
        )
        ids = {t["id"] for t in run["tasks"]}
        for park in run["parks"]:
            # A row: [task, t_ms, line, within] and, when set, file (docs/run-document.md).
            self.assertIn(len(park), (4, 5))
            self.assertIn(park[0], ids)
            self.assertIsInstance(park[2], int)
            self.assertLess(park[4] if len(park) == 5 else 0, len(r.files))


class LessonModels(Channel):
    """A lesson's model Python saved to a file (`asyncdojo show N --code python`): a twin, which
    imports `dojo` and ends with `dojo.run(main, variants=...)`."""

    def test_each_variant_is_a_run_named_after_it_recording_marks_series_metrics(self):
        r = trace("uses_dojo.py")
        self.assert_channel(r, runs=3)
        self.assertEqual([run["variant"] for run in r.runs], ["fast", "slow", "broken"])
        fast, slow, broken = r.runs
        for run, ms in ((fast, 40), (slow, 80)):
            t = by_name(run)
            # dojo.block holds the thread half the time, moving the virtual clock; dojo.lane
            # gives the coroutine awaited in place a lane; its parent is main.
            self.assertEqual(
                {n: (t[n]["parent"], t[n]["outcome"], t[n]["finished_ms"]) for n in t},
                {"main": (None, "ok", float(ms)), "worker": (1, "ok", float(ms)),
                 "inline": (1, "ok", 40.0)},
            )
            self.assertEqual(t["worker"]["polls"][0], [0.0, ms / 2])
            self.assertEqual(run["total_ms"], float(ms))
            self.assertEqual([(m["label"], m["task"], m["line"]) for m in run["marks"]],
                             [("started", 2, 11)])
            self.assertEqual(run["series"], {"busy": [[0.0, 1.0], [float(ms), 0.0]]})
            self.assertEqual(run["metrics"], {"ms": 40})
        # A variant that raises does not stop the others; the script then exits with it.
        self.assertEqual(broken["error"], "the script's main raised ValueError: broken on purpose")
        self.assertEqual(r.exit["code"], 1)
        tb = r.exit["error"]
        self.assertIn("dojo.run(main, variants=", tb)
        self.assertTrue(tb.endswith("ValueError: broken on purpose\n"), tb)
        self.assertNotIn("<asyncdojo>", tb)
        # Nothing of the tracer but `dojo` itself is importable.
        self.assertEqual(r.stdout.count("only dojo itself is importable"), 2, r.stdout)
        self.assertNotIn("'dojo.", r.stdout)

    def test_json_arguments_choose_variants_as_by_hand(self):
        r = trace("uses_dojo.py", '{"variants": ["slow"], "params": {"ms": 10}}')
        self.assert_channel(r)
        self.assertEqual(r.exit, {"code": 0, "error": None})
        (run,) = r.runs
        self.assertEqual((run["variant"], run["total_ms"]), ("slow", 20.0))
        bad = trace("uses_dojo.py", '{"variants": ["quick"]}')
        self.assertEqual(bad.exit["code"], 2)
        self.assertIn("uses_dojo.py has no variant `quick`: its variants are fast, slow, broken",
                      bad.stderr)

    def test_the_real_clock_twin_traced_on_the_virtual_clock_says_so(self):
        with open(path("uses_dojo.py"), encoding="utf-8") as f:
            source = f.read()
        # A directory of its own: the suite runs under several interpreters at once.
        with tempfile.TemporaryDirectory() as tmp:
            real = os.path.join(tmp, "real_twin.py")
            with open(real, "w", encoding="utf-8") as f:
                f.write(source.replace('("fast", "slow", "broken"))', '("fast",), clock="real")'))
            r = tracerun.trace(real, [], cwd=tmp)
        self.assertEqual([run["variant"] for run in r.runs], ["fast"])
        self.assertEqual(len(r.notes), 1, r.notes)
        self.assertIn("real_twin.py asks for the real clock", r.notes[0])

    def test_a_mark_in_another_user_file_says_which(self):
        r = trace("marks_in_a_module.py")
        self.assert_channel(r)
        self.assertEqual(r.files,
                         [path("marks_in_a_module.py"), path(os.path.join("lib", "marking.py"))])
        self.assertEqual(
            [(m["label"], m["t_ms"], m["line"], m.get("file")) for m in r.runs[0]["marks"]],
            [("begin", 0.0, 12, None), ("stepped 5", 5.0, 8, 1)],
        )

    def test_a_dojo_of_the_scripts_own_wins(self):
        r = trace(os.path.join("own_dojo", "main.py"))
        self.assert_channel(r)
        self.assertEqual(r.stdout, "dojo is mine\n")
        self.assertEqual(r.runs[0]["variant"], "run 1")


class Interpreters(unittest.TestCase):
    def test_the_bundle_built_here_holds_every_module_of_the_package(self):
        on_disk = sorted(
            n for n in os.listdir(tracerun.DOJO)
            if n.endswith(".py") and n not in ("_boot.py", "_boot_script.py", "_bundle.py")
        )
        self.assertEqual(on_disk, sorted(f for _, f in tracerun.MODULES))

    def test_an_interpreter_older_than_3_11_is_refused_with_a_clear_message(self):
        old = [p for p in os.environ.get("TRACER_OLD_PYTHONS", "").split(os.pathsep) if p]
        if not old:
            self.skipTest("no Python older than 3.11 given ($TRACER_OLD_PYTHONS)")
        for python in old:
            with self.subTest(python=python):
                r = trace("gather_requests.py", python=python)
                self.assertEqual(r.returncode, 3)
                self.assertEqual(r.messages, [])
                self.assertTrue(r.stderr.startswith("ASYNCDOJO_PYTHON_TOO_OLD "), r.stderr)
                self.assertIn("need Python 3.11 or later", r.stderr)


# ---------------------------------------------------------------------------------------------
# The twins as plain scripts


VIRTUAL_TWINS = {
    "blocking": ["blocking", "async-sleep", "spawn-blocking"],
    "circuit-breaker": ["breaker"],
    "console-lab": ["inspect"],
    "event-loop": ["current-thread"],
    "gather-errors": ["try-join-all", "join-all", "join-set-abort", "detached"],
    "gather": ["sequential", "join-all", "join-set"],
    "lazy-futures": ["lazy"],
    "loop-lag": ["monitor"],
    "rate-limiter": ["sliding-window", "token-bucket", "gcra"],
    "retry-backoff": ["exponential"],
    "scheduler": ["fixed-rate", "fixed-delay"],
    "select-loop": ["recreated", "pinned", "buffer-outside"],
    "semaphore": ["fifo"],
    "spawn-vs-await": ["await", "spawn", "abort"],
    "timeouts": ["timeout", "select", "deadline-set"],
}

# Lanes a twin gives coroutines awaited in place (`dojo.lane`), which a plain program cannot
# have: left out of the twin's side (their children belong to the lane's parent).
IN_PLACE_LANES = {
    ("lazy-futures", "lazy"): {"awaited at once", "awaited later", "never awaited"},
    ("spawn-vs-await", "await"): {"child"},
}


def lanes(run, in_place=()):
    """(name, parent's name, outcome, spawned_ms, finished_ms) per lane, in spawn order. asyncio's
    own names (`Task-7`) depend on how many unnamed Tasks came before, so they compare as one;
    `rejected` is `dojo.Rejected`'s outcome, which a plain exception shows as `error`."""
    by_id = {t["id"]: t for t in run["tasks"]}

    def name(t):
        return re.sub(r"^Task-\d+$", "Task-*", t["name"])

    def parent(t):
        p = t["parent"]
        while p is not None and by_id[p]["name"] in in_place:
            p = by_id[p]["parent"]
        return None if p is None else name(by_id[p])

    return [
        (name(t), parent(t), "error" if t["outcome"] == "rejected" else t["outcome"],
         t["spawned_ms"], t["finished_ms"])
        for t in run["tasks"]
        if t["name"] not in in_place
    ]


def run_twin(twin, variant):
    out = subprocess.run(
        [sys.executable, "-B", os.path.join(ROOT, "twins", twin + ".py"),
         json.dumps({"variants": [variant], "clock": "virtual"})],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout)["runs"][0]


def compare(twin, variant):
    twin_run = run_twin(twin, variant)
    traced = tracerun.trace(os.path.join(HERE, "twins", twin + ".py"), [variant])
    return twin_run, traced


class TwinsAsScripts(unittest.TestCase):
    def test_same_lanes_outcomes_and_times_as_the_twins(self):
        jobs = [(t, v) for t, vs in VIRTUAL_TWINS.items() for v in vs]
        self.assertEqual(len(VIRTUAL_TWINS), 15)
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = list(pool.map(lambda job: compare(*job), jobs))
        for (twin, variant), (twin_run, traced) in zip(jobs, results):
            with self.subTest(twin=twin, variant=variant):
                self.assertEqual(traced.exit, {"code": 0, "error": None}, traced.stderr[-2000:])
                self.assertEqual(len(traced.runs), 1)
                run = traced.runs[0]
                self.assertEqual(
                    lanes(run), lanes(twin_run, IN_PLACE_LANES.get((twin, variant), ())))
                self.assertEqual(run["total_ms"], twin_run["total_ms"])
                # Only the twins on sockets or threads are told the virtual clock races them.
                waits = (twin == "select-loop") or (twin, variant) == ("blocking", "spawn-blocking")
                self.assertEqual(bool(traced.notes), waits, traced.notes)


if __name__ == "__main__":
    unittest.main()

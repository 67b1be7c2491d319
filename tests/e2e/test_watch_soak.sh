#!/usr/bin/env bash
# reef watch's memory stays flat over thousands of polls: the short soak
# (scripts/soak.sh, 100 s, 8 watchable fixtures and a dead URL polled every
# 100 ms, reef's shortest interval, while a driver bursts, leaks, holds
# descriptors and heap, releases them and restarts a target, in 12 s
# cycles).  RSS is judged after the series rings have filled (61 s), over
# the last 39 s (about 3,000 polls), with a slack of 2 MiB (4 MiB under
# ASan): glibc's main arena keeps touching new pages of its heap for the
# first minutes while the memory in use stays flat (heaptrack), up to 1.2
# MiB in such a window.  So this catches a leak of about 700 bytes a poll;
# `make soak` (20 minutes, 80,000 polls, 1 MiB) the slow ones.  Under the
# ASan build, LeakSanitizer checks the same run at reef's exit.
#
# Expected values come from the targets, not from reef: the polls are the
# goroutine profiles the fixtures say they served (/state), the memory is
# what the kernel says of reef's process (/proc/PID/status).
source "$(dirname "$0")/lib.sh"
build_fixtures

SOAK=$TMP/soak
set +e
slack=2048
[[ ${REEF_SANITIZE:-} == ON ]] && slack=4096
REEF=$REEF WATCHABLE=$FIXTURES/watchable SOAK_SLACK_KB=$slack "$REEF_SRC/scripts/soak.sh" \
  -d 100 -i 100ms -n 8 -p 5000 -o "$SOAK" >"$TMP/soak.out" 2>"$TMP/soak.err"
rc=$?
set -e
cat "$TMP/soak.out"
[[ $rc -ne 2 ]] || { cat "$TMP/soak.err" >&2; fail "the soak could not run"; }

val() { sed -n "s/^$1=//p" "$SOAK/summary.txt"; }
# For a failure's reader: reef's RSS every 5 s (seconds:KiB) and what it logged.
echo "RSS: $(awk 'NR % 5 == 1 {printf "%d:%d ", $1, $2}' "$SOAK/rss.tsv")"
echo "events: $(jq -r '.event + (if .change then " " + .change + " " + .rule else "" end)' "$SOAK/events.jsonl" 2>/dev/null |
  sort | uniq -c | awk '{c = $1; $1 = ""; printf "%s%s x%d", s, substr($0, 2), c; s = ", "}')"

check "reef watch stopped by itself at --duration" eq "$(val reef_late)" 0
check "reef watch exit status 0 or 1 (got $(val reef_exit); stderr: $(head -c 400 "$SOAK/reef.err"))" \
  test "$(val reef_exit)" -le 1
check "no sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$SOAK/reef.err" || true)" \
  eq "$(val sanitizer_reports)" 0
check "at least 5000 polls counted by the targets (got $(val polls))" test "$(val polls)" -ge 5000
check "RSS sampled after warm-up (got $(val samples_after_warmup))" test "$(val samples_after_warmup)" -ge 9
check "RSS flat: last third's max $(val rss_max_last_third_kb) <= first third's $(val rss_max_first_third_kb) + $(val slack_kb) KiB" \
  test "$(val rss_max_last_third_kb)" -le $(($(val rss_max_first_third_kb) + $(val slack_kb)))
check "RSS trend $(val rss_trend_kb) KiB <= $(val slack_kb) KiB" test "$(val rss_trend_kb)" -le "$(val slack_kb)"
check "the driver restarted a target (the restart path ran)" test "$(val restarts)" -ge 1
check "event lines are JSON objects" eq "$(val bad_event_lines)" 0
check "events were written" test "$(val events)" -ge 1
# The soak's own verdict must agree with the checks above.
check "soak.sh's verdict: $(grep FAIL "$TMP/soak.err" | head -3)" eq "$rc" 0
pass

#!/usr/bin/env bash
# NinjaTrader 8 side of vrev: policy checks, compile against the API stub, unit tests, and a
# loopback interop smoke test of the publisher. Run from the repository root:  bash .ci/nt8.sh
# Needs Debian/Ubuntu mono (installed here if mcs is missing). Build output goes to a temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NT8="nt8"
PRODUCT=("$NT8/Indicators/VrevPublisher.cs" "$NT8/Strategies/VrevAutoTrader.cs")
STUB="$NT8/tests/NinjaTraderStub.cs"
START=$SECONDS

step() { echo "== nt8: $*"; }
fail() { echo "FAIL nt8: $*" >&2; exit 1; }

# ---------------------------------------------------------------- 0. toolchain
step "toolchain"
if ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1 \
   || [ ! -e /usr/lib/mono/4.5/System.ComponentModel.DataAnnotations.dll ]; then
  echo "installing mono (mono-mcs, mono-runtime, DataAnnotations)"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends mono-mcs mono-runtime libmono-system-componentmodel-dataannotations4.0-cil
else
  echo "mono already installed: skipping install"
fi
mcs --version
mono --version | head -n 1

for f in "${PRODUCT[@]}" "$STUB" "$NT8/tests/Tests.cs" "$NT8/tests/FeedHarness.cs" "$NT8/tests/Equality.cs"; do
  [ -f "$f" ] || fail "missing $f"
done

# ---------------------------------------------------------------- 1. policy checks
step "policy checks on ${PRODUCT[*]}"
policy_fail=0
deny() { # deny <description> <extended regex>
  local hits
  hits="$(grep -nE "$2" "${PRODUCT[@]}" || true)"
  if [ -n "$hits" ]; then
    echo "POLICY: $1:"; echo "$hits" | sed 's/^/    /'
    policy_fail=1
  fi
}
# APIs that exist in mono but not in .NET Framework 4.8 / NinjaTrader, or do not work there.
deny "WebSocket.CreateFromStream is not in .NET Framework 4.8" 'CreateFromStream'
deny "HttpListener WebSockets need URL ACLs on Windows and fail under mono" 'HttpListener|AcceptWebSocketAsync|IsWebSocketRequest'
deny "Span/Memory/ValueTuple need packages NinjaTrader does not reference" '\b(Span|ReadOnlySpan|Memory|ReadOnlyMemory|ValueTuple)<|\bValueTuple\b'
deny ".NET Core-only API or C# 8 ranges" 'TryFindSystemTimeZoneById|string\.Create\(|\bIAsyncEnumerable\b|\[\^[0-9]|\[[0-9]*\.\.[0-9]*\]'
deny "WPF/WinForms timers and dispatchers are not needed (and absent under mono)" 'System\.Windows\.Forms|DispatcherTimer|Dispatcher\.Invoke\('
# C# features beyond what both mcs (7.2) and NinjaTrader's compiler accept.
deny "switch with 'when' guards (C# 7 pattern switch)" '\bcase\b[^:]*\bwhen\b'
deny "switch on type patterns" '\bcase +([A-Z][A-Za-z0-9_.<>]*|int|long|double|decimal|float|string|bool|object|char|byte) +[a-z_][A-Za-z0-9_]* *:'
deny "switch expressions / C# 8+ syntax" '\bswitch *\{|#nullable|\?\?=|\busing +var\b|\bawait +foreach\b|\binit *;'
deny "tuple syntax (needs System.ValueTuple)" '\(\s*(int|string|double|bool|long|DateTime)\s+[A-Za-z_]+\s*,\s*(int|string|double|bool|long|DateTime)\s+[A-Za-z_]+\s*\)\s+[A-Za-z_]+\s*\('
deny "'in' parameters / private protected / ref struct (C# 7.2+, avoid)" '\(in [A-Z]|private protected|ref struct|readonly struct'
# Test-only hooks of the stub must never reach NinjaTrader.
deny "stub-only test hooks" 'TestHook|Recorded'
# Culture-sensitive parsing and formatting without an explicit culture.
deny "Convert.ToDouble/ToDecimal are culture-sensitive" 'Convert\.To(Double|Decimal|Single)\('
if [ "$policy_fail" != 0 ]; then fail "policy checks"; fi
# Every number/date parse must name the invariant culture.
if grep -nE '\b(double|decimal|float|int|long|DateTime|DateTimeOffset)\.(Try)?Parse(Exact)?\(' "${PRODUCT[@]}" | grep -v 'InvariantCulture' ; then
  fail "number or date parse without CultureInfo.InvariantCulture"
fi
echo "policy checks passed"

BUILD="$(mktemp -d "${TMPDIR:-/tmp}/vrev-nt8.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT # extended in step 5 to stop the processes it starts
REFS="-r:System.dll -r:System.Core.dll -r:System.Xml.dll -r:System.ComponentModel.DataAnnotations.dll"

# ---------------------------------------------------------------- 2. compile
step "compile NinjaScript files + API stub in one mcs call (C# 7.2, warnings are errors)"
# shellcheck disable=SC2086
mcs -target:library -langversion:7.2 -warnaserror $REFS \
    -out:"$BUILD/VrevNt8.dll" "${PRODUCT[@]}" "$STUB"
echo "compiled $BUILD/VrevNt8.dll"
# Each NinjaScript file must also compile on its own (users may install only one of them).
for f in "${PRODUCT[@]}"; do
  # shellcheck disable=SC2086
  mcs -target:library -langversion:7.2 -warnaserror $REFS -out:"$BUILD/single.dll" "$f" "$STUB" \
    || fail "$f does not compile on its own"
done
echo "each file compiles on its own"

# ---------------------------------------------------------------- 3. unit tests
step "signal files from the Rust engine for the contract test"
# vrev replays synthetic bars (long and short Vs) in a scratch project; the C# tests then parse
# every file it wrote, field by field, under a comma-decimal culture.
VREV_BIN="${VREV_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/vrev}"
if [ ! -x "$VREV_BIN" ]; then cargo build --quiet; fi
PROJ="$BUILD/proj"
mkdir -p "$PROJ"
cp "$ROOT/config.toml" "$PROJ/" && cp -r "$ROOT/strategies" "$PROJ/"
(cd "$PROJ" && "$VREV_BIN" synth --out bars.txt --days 5 >/dev/null \
  && "$VREV_BIN" replay bars.txt >/dev/null \
  && "$VREV_BIN" replay bars.txt --profile bidirectional --set profile.bidirectional.params.rise_threshold=2.0 >/dev/null)
echo "vrev wrote $(ls "$PROJ/signals" | wc -l) signal files ($(grep -l '^ACTION=SELL' "$PROJ"/signals/*.txt | wc -l) SELL)"
export VREV_RUST_SIGNALS="$PROJ/signals"

step "unit tests (mono Tests.exe)"
# shellcheck disable=SC2086
mcs -langversion:7.2 -warnaserror $REFS -r:"$BUILD/VrevNt8.dll" -out:"$BUILD/Tests.exe" "$NT8/tests/Tests.cs"
set +e
(cd "$BUILD" && timeout 300 mono Tests.exe "$ROOT")
rc=$?
set -e
[ "$rc" = 0 ] || fail "unit tests: exit code $rc (number of failed checks, 124 = timeout)"

# ---------------------------------------------------------------- 3b. live equals backtest
step "equality: vrev backtest vs VrevAutoTrader on the stub's fill simulator, trade by trade"
# One line per profile: NAME REQUIRED_REASONS [extra vrev arguments...]. Every exit reason in
# REQUIRED_REASONS (comma-separated) must occur at least once among the compared trades, so a
# profile cannot pass with no trade of the kind it is here to prove. Add a profile by adding a line.
EQUALITY_PROFILES=(
  "production max_hold,stop"
  "bidirectional max_hold,stop,target"
  "orb breakeven,stop"
  "ema_pullback trail,target,max_hold"
  # A test profile (tests/fixtures/plan/plan_exits.{toml,rhai}, added to the scratch project).
  "plan_exits script_exit,flat_by"
)
EQUALITY_DAYS=20
# 3c. vrev reconcile on the trade log the C# auto-trader just wrote (trades_Sim101.csv in its
# state folder, fed vrev's own signal files by Equality.exe) against the replay's journal: every
# trade must match a vrev signal, with the live fills equal to the shadow's (0 ticks on entry and
# exit), the same exit reason and the same P&L; no trade without a signal.
reconcile_exact() { # reconcile_exact PROFILE PROJECT
  local profile="$1" proj="$2" log="$2/nt8/state/trades_Sim101.csv"
  [ -f "$log" ] || fail "reconcile $profile: the auto-trader wrote no $log"
  (cd "$proj" && "$VREV_BIN" reconcile --trades "$log" --report reconcile > reconcile.log 2>&1) \
    || { cat "$proj/reconcile.log"; fail "vrev reconcile of profile $profile"; }
  local trades
  trades=$(tail -n +2 "$log" | grep -c . || true)
  # reconcile.csv: kind,signal_id,...,reason_differs(13),live_pnl(14),shadow_pnl(15),
  # auto_trader_outcome(16),entry_vs_shadow_ticks(17),exit_vs_shadow_ticks(18)
  if ! awk -F, -v trades="$trades" -v profile="$profile" '
      /^#/ || $1 == "kind" { next }
      $1 == "matched" {
        matched++
        if ($17 != "0" || $18 != "0" || $13 != "false" || $14 != $15) {
          bad++
          print "  " $2 ": entry " $17 " ticks, exit " $18 " ticks vs the shadow; reason differs " $13 "; P&L live " $14 " shadow " $15
        }
      }
      $1 == "no_signal" { nosig++; print "  " $2 ": a trade without a vrev signal" }
      $1 == "never_traded" { never++ }
      END {
        printf "reconcile %s: %d of %d trade(s) matched, %d with a difference, %d without a signal, %d signal(s) not traded (open at the end of the data)\n", profile, matched, trades, bad, nosig, never
        exit !(matched > 0 && matched == trades && bad == 0 && nosig == 0)
      }' "$proj/reconcile/reconcile.csv"; then
    cat "$proj/reconcile.log"
    fail "reconcile of profile $profile: the auto-trader's trades do not all match vrev's with 0 ticks of difference"
  fi
}
# shellcheck disable=SC2086
mcs -langversion:7.2 -warnaserror $REFS -r:"$BUILD/VrevNt8.dll" -out:"$BUILD/Equality.exe" "$NT8/tests/Equality.cs"
EQ="$BUILD/equality"
mkdir -p "$EQ"
"$VREV_BIN" synth --out "$EQ/bars.txt" --days "$EQUALITY_DAYS" >/dev/null
for entry in "${EQUALITY_PROFILES[@]}"; do
  read -r eq_profile eq_required eq_extra <<< "$entry"
  # A fresh project per profile: replay's ledger would otherwise keep a profile's IDs from
  # being written for the next one.
  P="$EQ/$eq_profile"
  mkdir -p "$P"
  cp "$ROOT/config.toml" "$P/" && cp -r "$ROOT/strategies" "$P/"
  if [ -f "$ROOT/tests/fixtures/plan/$eq_profile.toml" ]; then
    cat "$ROOT/tests/fixtures/plan/$eq_profile.toml" >> "$P/config.toml"
    cp "$ROOT/tests/fixtures/plan/$eq_profile.rhai" "$P/strategies/"
  fi
  # shellcheck disable=SC2086
  (cd "$P" && "$VREV_BIN" replay ../bars.txt --profile "$eq_profile" $eq_extra > replay.log 2>&1 \
    && "$VREV_BIN" backtest ../bars.txt --profile "$eq_profile" $eq_extra --report out > backtest.log 2>&1) \
    || { cat "$P/replay.log" "$P/backtest.log" 2>/dev/null; fail "vrev replay/backtest --profile $eq_profile"; }
  set +e
  (cd "$BUILD" && timeout 600 mono Equality.exe --bars "$EQ/bars.txt" --signals "$P/signals" --trades "$P/out/trades.csv" \
    --config "$P/config.toml" --profile "$eq_profile" --require "$eq_required" --work "$P/nt8")
  rc=$?
  set -e
  [ "$rc" = 0 ] || fail "equality of profile $eq_profile (exit code $rc; 124 = timeout)"
  reconcile_exact "$eq_profile" "$P"
done

step "reconcile: a trade log one tick off the shadow is caught (the check above can fail)"
OFF="$BUILD/one-tick-off"
mkdir -p "$OFF/nt8/state"
cp -r "$EQ/production/config.toml" "$EQ/production/strategies" "$EQ/production/state" "$OFF/"
# The first trade's exit one tick worse for the trader.
awk -F, -v OFS=, 'NR == 2 { $7 = sprintf("%.2f", $7 + ($2 == "BUY" ? -0.25 : 0.25)) } { print }' \
  "$EQ/production/nt8/state/trades_Sim101.csv" > "$OFF/nt8/state/trades_Sim101.csv"
if (reconcile_exact production-one-tick-off "$OFF") > "$OFF/check.log" 2>&1; then
  cat "$OFF/check.log"; fail "reconcile_exact passed a trade log with an exit one tick off"
fi
grep -q "exit 1 ticks vs the shadow" "$OFF/check.log" || { cat "$OFF/check.log"; fail "the one-tick exit difference was not named"; }
echo "caught: $(grep -m1 'ticks vs the shadow' "$OFF/check.log")"

# ---------------------------------------------------------------- 4. interop smoke test
step "interop: publisher over loopback WebSocket (mono FeedHarness.exe)"
# shellcheck disable=SC2086
mcs -langversion:7.2 -warnaserror $REFS -r:"$BUILD/VrevNt8.dll" -out:"$BUILD/FeedHarness.exe" "$NT8/tests/FeedHarness.cs"
set +e
(cd "$BUILD" && timeout 360 mono FeedHarness.exe)
rc=$?
set -e
[ "$rc" = 0 ] || fail "feed harness: exit code $rc (number of failed checks, 124 = timeout)"

# ---------------------------------------------------------------- 5. interop with the Rust client
step "interop: vrev record against the C# publisher under mono (history, live, publisher restart)"
# Publisher 1: 10 history bars (18:50-18:59 UTC); once vrev has subscribed, 4 live bars
# (19:00-19:03); it is stopped, dropping the connection, once vrev has recorded all 14.
# Publisher 2 on the same port: the same history; once vrev has resubscribed, live bars from
# 19:00 to 19:07. vrev must reconnect, ask only for the bars after its last one (so 19:00-19:03
# arrive again live and are skipped: "already had 4"), and record every bar 18:50-19:07 exactly
# once with its exact UTC time and prices. Every step waits for a condition (a log line, a row
# count, a process exit), never for a time: a slow machine only makes the run slower.
PATIENCE=120 # seconds; only reached when something is broken
S1="" S2="" REC=""
trap 'for p in $S1 $S2 $REC; do kill "$p" 2>/dev/null || true; done; rm -rf "$BUILD"' EXIT
show_logs() { for f in serve1.log serve2.log record.log; do if [ -f "$BUILD/$f" ]; then echo "--- $f"; cat "$BUILD/$f"; fi; done; }
# wait_for <what> <pid to watch> <command...>: polls the command until it succeeds; fails (with
# the logs) if the watched process ends first or after $PATIENCE seconds.
wait_for() {
  local what="$1" pid="$2"; shift 2
  local deadline=$((SECONDS + PATIENCE))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then show_logs; fail "$what: process $pid ended first"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then show_logs; fail "$what: still not the case after $PATIENCE s"; fi
    sleep 0.1
  done
}
rows_at_least() { [ -f "$BUILD/rec.csv" ] && [ "$(wc -l < "$BUILD/rec.csv")" -ge "$1" ]; }
# Below Linux's ephemeral range (32768-60999), so no outgoing connection holds it.
PORT=$(( 20000 + RANDOM % 12000 ))
(cd "$BUILD" && exec timeout 300 mono FeedHarness.exe --serve "$PORT" 4 "$BUILD/stop1" > serve1.log 2>&1) &
S1=$!
wait_for "publisher 1 listening" "$S1" grep -qs "listening on" "$BUILD/serve1.log"
"$VREV_BIN" record --url "ws://127.0.0.1:$PORT" --out "$BUILD/rec.csv" > "$BUILD/record.log" 2>&1 &
REC=$!
wait_for "vrev recorded publisher 1's 14 bars" "$REC" rows_at_least 15
touch "$BUILD/stop1"
rc=0; wait "$S1" || rc=$?
[ "$rc" = 0 ] || { show_logs; fail "publisher 1 failed (exit code $rc)"; }
S1=""
(cd "$BUILD" && exec timeout 300 mono FeedHarness.exe --serve "$PORT" 8 "$BUILD/stop2" > serve2.log 2>&1) &
S2=$!
wait_for "vrev recorded all 18 bars" "$REC" rows_at_least 19
kill -INT "$REC"
rc=0; wait "$REC" || rc=$?
[ "$rc" = 0 ] || { show_logs; fail "vrev record did not stop cleanly (exit code $rc)"; }
REC=""
touch "$BUILD/stop2"
rc=0; wait "$S2" || rc=$?
[ "$rc" = 0 ] || { show_logs; fail "publisher 2 failed (exit code $rc)"; }
S2=""
EXPECTED="$BUILD/expected.csv"
echo "timestamp,open,high,low,close,volume" > "$EXPECTED"
for i in $(seq 0 17); do
  printf '2025-02-13T%02d:%02d:00+00:00,%d,%d,%d,%d.25,%d\n' $(( 18 + (50 + i) / 60 )) $(( (50 + i) % 60 )) $(( 6100 + i )) $(( 6101 + i )) $(( 6099 + i )) $(( 6100 + i )) $(( 100 + i )) >> "$EXPECTED"
done
if ! diff -u "$EXPECTED" "$BUILD/rec.csv"; then show_logs; fail "recorded bars differ from the published ones"; fi
grep -qE "connects 2( |$)" "$BUILD/record.log" || { show_logs; fail "expected exactly one reconnect"; }
grep -qE "already had 4( |,|$)" "$BUILD/record.log" || { show_logs; fail "expected vrev to resume after 19:03 and skip the 4 re-sent live bars"; }
echo "vrev recorded all 18 bars exactly once across a publisher restart: $(grep -oE 'already had [0-9]+' "$BUILD/record.log" | tail -1) re-sent bars skipped"

step "all checks passed in $((SECONDS - START)) s"

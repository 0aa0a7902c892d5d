#!/bin/sh
# A stand-in for the `codex` binary in the benchmarks (CODEX_BIN): answers
# `codex login status` like a logged-in CLI, and `codex exec --json ... -C DIR
# -o FILE -- PROMPT` by editing two files in DIR (the file the phase's first
# task names, and README.md), printing the JSONL events `codex exec --json`
# prints, and writing the last message to FILE. STUB_CODEX_SECONDS (passed
# through CODEX_ENV_PASSTHROUGH) makes the "model" think that long.
case "$1" in
  login) echo 'Logged in using an API key - sk-bench***' >&2; exit 0 ;;
  --version) echo 'codex-cli 0.0.0 (benchmark stub)'; exit 0 ;;
  exec) ;;
  *) echo "stub codex: unsupported command $1" >&2; exit 2 ;;
esac
cwd=.
last=
prompt=
while [ $# -gt 0 ]; do
  case "$1" in
    -C|--cd) cwd=$2; shift 2 ;;
    -o|--output-last-message) last=$2; shift 2 ;;
    -m|--model|-s|--sandbox|--color|-c|--config) shift 2 ;;
    --) shift; prompt=$*; break ;;
    *) shift ;;
  esac
done
rest=${prompt#*specs/}
feature=${rest%%/*}
[ -n "$feature" ] || feature=unknown
echo "{\"type\":\"thread.started\",\"thread_id\":\"stub-$$\"}"
echo '{"type":"turn.started"}'
if [ -n "$STUB_CODEX_SECONDS" ]; then sleep "$STUB_CODEX_SECONDS"; fi
mkdir -p "$cwd/src/$feature"
echo "Hello from $feature" > "$cwd/src/$feature/hello.txt"
echo "See src/$feature/hello.txt for the greeting." >> "$cwd/README.md"
echo "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_0\",\"type\":\"file_change\",\"changes\":[{\"path\":\"$cwd/src/$feature/hello.txt\",\"kind\":\"add\"},{\"path\":\"$cwd/README.md\",\"kind\":\"update\"}],\"status\":\"completed\"}}"
message="Implemented Phase 1 of $feature (benchmark stub)."
echo "{\"type\":\"item.completed\",\"item\":{\"id\":\"item_1\",\"type\":\"agent_message\",\"text\":\"$message\"}}"
echo '{"type":"turn.completed","usage":{"input_tokens":1200,"cached_input_tokens":200,"output_tokens":80,"reasoning_output_tokens":0}}'
if [ -n "$last" ]; then echo "$message" > "$last"; fi
exit 0

#!/bin/sh
# tests/unit/man_options.sh - checks that `fleetsim --help` and man/fleetsim.1 list the same
# long options, that every listed option is one the parser knows, and that the man page
# renders without a single groff/man warning.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
bin="$top_builddir/fleetsim"
page="$top_srcdir/man/fleetsim.1"
fail=0

if [ ! -x "$bin" ]; then
    echo "SKIP: $bin is not built"
    exit 77
fi
[ -r "$page" ] || { echo "FAIL: $page is missing"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/man_options.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Options defined in --help: lines that start with spaces then "-x, --name" or "--name".
"$bin" --help >"$tmp/help.txt" 2>"$tmp/help.err" || { echo "FAIL: fleetsim --help exited $?"; exit 1; }
[ -s "$tmp/help.err" ] && { echo "FAIL: fleetsim --help wrote to stderr:"; cat "$tmp/help.err"; fail=1; }
grep -E '^ +(-[a-zA-Z], )?--[a-z]' "$tmp/help.txt" |
    sed -E 's/^ +(-[a-zA-Z], )?(--[a-z0-9-]+).*/\2/' | sort -u >"$tmp/help.opts"

# Options defined in the man page: the tag line after each .TP inside the OPTIONS section.
awk '
    /^\.SH / { in_opts = ($2 == "OPTIONS"); next }
    in_opts && /^\.TP/ { tag = 1; next }
    in_opts && tag { print; tag = 0 }
' "$page" | tr -d '\\' | grep -oE -- '--[a-z0-9-]+' | sort -u >"$tmp/man.opts"

n_help=$(wc -l <"$tmp/help.opts")
n_man=$(wc -l <"$tmp/man.opts")
if [ "$n_help" -lt 30 ]; then
    echo "FAIL: only $n_help options found in --help (extraction broken?)"
    fail=1
fi
if ! diff -u "$tmp/help.opts" "$tmp/man.opts" >"$tmp/diff"; then
    echo "FAIL: --help (-) and man/fleetsim.1 (+) list different options:"
    grep -E '^[-+]--[a-z]' "$tmp/diff"
    fail=1
else
    echo "ok: --help and man/fleetsim.1 both list the same $n_help long options"
fi

# Every listed option must exist in the parser: given an empty value it is rejected for its
# value, never as an unknown option.
for opt in $(cat "$tmp/help.opts"); do
    case $opt in --help|--version) continue ;; esac
    out=$(env -u CERTCTL_SERVER_URL -u CERTCTL_API_KEY "$bin" "$opt=" 2>&1 >/dev/null)
    case $out in
        *"unknown option"*) echo "FAIL: $opt is in --help but the parser does not know it: $out"; fail=1 ;;
    esac
done
echo "ok: the parser knows all $n_help listed options"

# The page renders without warnings.
groff -ww -z -man "$page" >"$tmp/groff.out" 2>&1
if [ -s "$tmp/groff.out" ]; then
    echo "FAIL: groff -ww warnings:"
    cat "$tmp/groff.out"
    fail=1
else
    echo "ok: groff -ww -z -man is silent"
fi
if command -v man >/dev/null 2>&1; then
    LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -l -E UTF-8 "$page" 2>"$tmp/man.err" >/dev/null
    if [ -s "$tmp/man.err" ]; then
        echo "FAIL: man --warnings:"
        cat "$tmp/man.err"
        fail=1
    else
        echo "ok: man --warnings is silent"
    fi
fi

[ "$fail" -eq 0 ] && echo "PASS: man_options ($n_help options)"
exit "$fail"

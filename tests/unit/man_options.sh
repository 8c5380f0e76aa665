#!/bin/sh
# tests/unit/man_options.sh - for fleetsim (man/fleetsim.1) and fleetsim-target
# (man/fleetsim-target.1): checks that the program's --help and its man page list the same long
# options and the same one-letter forms, that every listed option is one the parser knows, and
# that the man page renders without a single groff/man warning.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
fail=0
checked=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/man_options.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# check PROGRAM MIN_OPTIONS: compares $top_builddir/PROGRAM --help with man/PROGRAM.1.
check() {
    prog=$1
    min=$2
    bin="$top_builddir/$prog"
    page="$top_srcdir/man/$prog.1"
    if [ ! -x "$bin" ]; then
        echo "SKIP: $bin is not built"
        return
    fi
    [ -r "$page" ] || { echo "FAIL: $page is missing"; fail=1; return; }
    checked=$((checked + 1))

    # Options defined in --help: lines that start with spaces then "-x, --name" or "--name".
    "$bin" --help >"$tmp/help.txt" 2>"$tmp/help.err" || { echo "FAIL: $prog --help exited $?"; fail=1; return; }
    [ -s "$tmp/help.err" ] && { echo "FAIL: $prog --help wrote to stderr:"; cat "$tmp/help.err"; fail=1; }
    grep -E '^ +(-[a-zA-Z], )?--[a-z]' "$tmp/help.txt" >"$tmp/help.lines"
    sed -E 's/^ +(-[a-zA-Z], )?(--[a-z0-9-]+).*/\2/' "$tmp/help.lines" | sort -u >"$tmp/help.opts"
    sed -nE 's/^ +(-[a-zA-Z]), (--[a-z0-9-]+).*/\1 \2/p' "$tmp/help.lines" | sort -u >"$tmp/help.short"

    # Options defined in the man page: the tag line after each .TP inside the OPTIONS section
    # (fleetsim.1 also documents `fleetsim seed`'s options in its SEED section: left out).
    awk '
        /^\.SH / { in_opts = ($2 == "OPTIONS"); next }
        in_opts && /^\.TP/ { tag = 1; next }
        in_opts && tag { print; tag = 0 }
    ' "$page" | tr -d '\\' >"$tmp/man.tags"
    grep -oE -- '--[a-z0-9-]+' "$tmp/man.tags" | sort -u >"$tmp/man.opts"
    sed -nE 's/^\.BR (-[a-zA-Z]) ", " (--[a-z0-9-]+).*/\1 \2/p' "$tmp/man.tags" | sort -u >"$tmp/man.short"

    n_help=$(wc -l <"$tmp/help.opts")
    if [ "$n_help" -lt "$min" ]; then
        echo "FAIL: only $n_help options found in $prog --help (extraction broken?)"
        fail=1
    fi
    if ! diff -u "$tmp/help.opts" "$tmp/man.opts" >"$tmp/diff"; then
        echo "FAIL: $prog --help (-) and man/$prog.1 (+) list different options:"
        grep -E '^[-+]--[a-z]' "$tmp/diff"
        fail=1
    else
        echo "ok: $prog --help and man/$prog.1 both list the same $n_help long options"
    fi
    if ! diff -u "$tmp/help.short" "$tmp/man.short" >"$tmp/diff"; then
        echo "FAIL: $prog --help (-) and man/$prog.1 (+) give different one-letter forms:"
        grep -E '^[-+]-[a-zA-Z] ' "$tmp/diff"
        fail=1
    else
        echo "ok: $prog --help and man/$prog.1 give the same one-letter forms ($(tr '\n' ' ' <"$tmp/help.short"))"
    fi

    # Every listed option must exist in the parser: given an empty value it is rejected for
    # its value, never as an unknown option. The unknown option after it stops the program
    # should the empty value be accepted.
    for opt in $(cat "$tmp/help.opts"); do
        case $opt in --help|--version) continue ;; esac
        out=$(env -u CERTCTL_SERVER_URL -u CERTCTL_API_KEY -u CERTCTL_AUTH_SECRET \
            "$bin" "$opt=" --zz-no-such-option 2>&1 >/dev/null)
        case $out in
            *"unknown option \"$opt\""*) echo "FAIL: $opt is in $prog --help but the parser does not know it: $out"; fail=1 ;;
        esac
    done
    echo "ok: $prog's parser knows all $n_help listed options"

    # The page renders without warnings.
    groff -ww -z -man "$page" >"$tmp/groff.out" 2>&1
    if [ -s "$tmp/groff.out" ]; then
        echo "FAIL: groff -ww warnings in man/$prog.1:"
        cat "$tmp/groff.out"
        fail=1
    else
        echo "ok: groff -ww -z -man man/$prog.1 is silent"
    fi
    if command -v man >/dev/null 2>&1; then
        LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -l -E UTF-8 "$page" 2>"$tmp/man.err" >/dev/null
        if [ -s "$tmp/man.err" ]; then
            echo "FAIL: man --warnings on man/$prog.1:"
            cat "$tmp/man.err"
            fail=1
        else
            echo "ok: man --warnings man/$prog.1 is silent"
        fi
    fi
}

check fleetsim 30
check fleetsim-target 15

if [ "$checked" -eq 0 ]; then
    echo "SKIP: no program built"
    exit 77
fi
[ "$fail" -eq 0 ] && echo "PASS: man_options ($checked programs)"
exit "$fail"

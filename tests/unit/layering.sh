#!/bin/sh
# tests/unit/layering.sh - the floors of docs/architecture.md, checked on the source tree:
# src -> refserver -> seed -> sim -> engine, includes pointing down only; refserver meets sim
# only through sim/identity.h; no product file includes a test or benchmark header; includes are
# rooted ("folder/file.h"), never relative. Also fails when code, build files or docs cite a
# design text that is not in the repository, or points to a docs/*.md file that does not exist
# (every such pointer must lead into docs/).
# Before checking the tree it checks itself on a small tree with one violation of each kind, so
# a checker that has gone blind fails too.
set -u

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

# Citations of texts outside the repository, built from pieces so this file does not match.
sect=$(printf '\302\247')
cite_pattern="DESIGN $sect|DESIGN section|certctl-facts|env-notes|fact sheet|issue [0-9]"

# Prints "file:line: #include ..." for every include in folder $2 (under root $1) whose path
# starts with one of the folders in the extended regex $3.
includes_of() {
    [ -d "$1/$2" ] || return 0
    (cd "$1" && find "$2" -name '*.[ch]' -type f | sort |
        xargs grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"($3)/") || true
}

# Checks the tree at $1; prints one line per violation; returns 1 when there is any.
check_tree() {
    root=$1
    out=$(
        includes_of "$root" engine 'sim|seed|refserver|src' | sed 's/$/  (engine is the lowest floor)/'
        includes_of "$root" sim 'seed|refserver|src' | sed 's/$/  (sim includes only sim and engine)/'
        includes_of "$root" seed 'refserver|src' | sed 's/$/  (seed is below refserver and src)/'
        includes_of "$root" refserver 'src' | sed 's/$/  (refserver is below src)/'
        includes_of "$root" refserver 'sim' | grep -v '"sim/identity\.h"' |
            sed 's/$/  (refserver shares only sim\/identity.h with sim)/'
        for floor in engine sim seed refserver src; do
            includes_of "$root" "$floor" 'tests|bench' | sed 's/$/  (product code includes no test or bench header)/'
            includes_of "$root" "$floor" '\.\.?' | sed 's/$/  (includes are rooted: "folder\/file.h")/'
        done
        (cd "$root" && for d in engine sim seed refserver src tests bench docs man deploy .ci; do
            [ -d "$d" ] && grep -rInE "$cite_pattern" "$d" \
                --exclude='*.log' --exclude='*.trs' --exclude-dir='.deps' --exclude='layering.sh'
        done
        for f in README.md configure.ac Makefile.am bootstrap; do
            [ -f "$f" ] && grep -InHE "$cite_pattern" "$f"
        done) | sed 's/$/  (cite docs\/*.md instead)/'
        (cd "$root" && for d in engine sim seed refserver src tests bench docs man; do
            [ -d "$d" ] && grep -rIoE 'docs/[a-z_-]+\.md' "$d" --exclude='*.log' --exclude='*.trs' \
                --exclude-dir='.deps' --exclude='layering.sh'
        done
        [ -f README.md ] && grep -IoHE 'docs/[a-z_-]+\.md' README.md) | sort -u |
            while IFS=: read -r file doc; do
                [ -f "$root/$doc" ] || echo "$file: points to $doc, which does not exist"
            done
    )
    if [ -n "$out" ]; then
        printf '%s\n' "$out"
        return 1
    fi
    return 0
}

# Self-check: a tree with one violation of each kind must give exactly that many lines.
fixture=$(mktemp -d) || exit 99
trap 'rm -rf "$fixture"' EXIT
mkdir -p "$fixture/engine" "$fixture/sim" "$fixture/seed" "$fixture/refserver" "$fixture/src" \
    "$fixture/docs"
printf '#include "sim/agent.h"\n#include "engine/clock.h"\n' >"$fixture/engine/a.c"
printf '#include "refserver/store.h"\n#include "sim/identity.h"\n' >"$fixture/sim/a.c"
printf '#include "src/options.h"\n' >"$fixture/seed/a.h"
printf '#include "sim/identity.h"\n#include "sim/agent.h"\n#include "src/cmd_run.h"\n' \
    >"$fixture/refserver/a.c"
printf '#include "tests/lib/pg.h"\n#include "../engine/hist.h"\n' >"$fixture/src/a.c"
printf 'as DESIGN %s4 says\n' "$sect" >"$fixture/docs/a.md"
printf '/* see docs/a.md and docs/nowhere.md */\n' >"$fixture/sim/b.h"
expected=9
got=$(check_tree "$fixture" | wc -l)
if [ "$got" -ne "$expected" ]; then
    echo "layering.sh: the checker found $got of the $expected violations planted in its own fixture:"
    check_tree "$fixture"
    exit 1
fi

if ! check_tree "$top"; then
    echo "layering.sh: the lines above break the floors or cite texts outside the repository" \
        "(docs/architecture.md, \"Floors\")"
    exit 1
fi
echo "layering: floors respected, no citation outside the repository"
exit 0

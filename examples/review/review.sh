#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# review.sh: what a reviewer needs to know about a change to firewall
# policies, in one run, for a pre-commit hook or a CI job.
#
#   1. portcullis check --strict     every policy resolves, with no warning
#                                    nobody acknowledged;
#   2. portcullis compare --git BASE what the change does to packets, policy
#                                    by policy, against the base revision
#                                    (the text to post as the review comment);
#   3. portcullis render --check-up-to-date DIR
#                                    the committed renderings are what the
#                                    policies render now.
#
# usage: review.sh [--base REV] [--rendered DIR] [--comment FILE]
#                  [--fail-on-change] [POLICY...]
#
#   --base REV        the revision to compare against (default: $REVIEW_BASE,
#                     else origin/main, else main)
#   --rendered DIR    where the renderings are committed (default: rendered,
#                     when that directory exists; none otherwise)
#   --comment FILE    also write the review comment (Markdown) to FILE
#   --fail-on-change  exit 1 when some verdict changes, too (a gate that
#                     needs a second pair of eyes)
#   POLICY...         the policies (default: every policies/*.yaml)
#
# Exit status: 0 every step passed (verdict changes are reported, not failed,
# unless --fail-on-change); 1 a check failed, a rendering is stale, or (with
# --fail-on-change) a verdict changed; 2 usage; 3 no portcullis or no git.
# The portcullis to run is $PORTCULLIS, else the one on PATH.
set -u

# usage [STATUS]: the usage above, on standard output for --help (0), else on
# standard error.
usage() {
	text=$(sed -n 's/^# \{0,1\}//; /^usage:/,/^Exit status/p' "$0" | sed '$d')
	if [ "${1:-2}" = 0 ]; then
		printf '%s\n' "$text"
	else
		printf '%s\n' "$text" >&2
	fi
	exit "${1:-2}"
}

base=${REVIEW_BASE:-}
rendered=
comment=
fail_on_change=false
while [ $# -gt 0 ]; do
	case $1 in
	--base) [ $# -ge 2 ] || usage; base=$2; shift 2 ;;
	--rendered) [ $# -ge 2 ] || usage; rendered=$2; shift 2 ;;
	--comment) [ $# -ge 2 ] || usage; comment=$2; shift 2 ;;
	--fail-on-change) fail_on_change=true; shift ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) echo "review.sh: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done

pc=${PORTCULLIS:-portcullis}
if ! command -v "$pc" >/dev/null 2>&1; then
	echo "review.sh: $pc: not found (install portcullis, or set PORTCULLIS)" >&2
	exit 3
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "review.sh: not inside a git work tree" >&2
	exit 3
fi

if [ -z "$base" ]; then
	for b in origin/main main; do
		if git rev-parse -q --verify "$b^{commit}" >/dev/null; then
			base=$b
			break
		fi
	done
fi
if [ -z "$base" ] || ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
	echo "review.sh: no base revision ${base:+'$base' }to compare against (give --base REV)" >&2
	exit 2
fi

if [ $# -eq 0 ]; then
	for f in policies/*.yaml; do
		[ -e "$f" ] && set -- "$@" "$f"
	done
	if [ $# -eq 0 ]; then
		echo "review.sh: no policies/*.yaml here; name the policies" >&2
		exit 2
	fi
fi
if [ -z "$rendered" ] && [ -d rendered ]; then
	rendered=rendered
fi

work=$(mktemp -d) || exit 3
trap 'rm -rf "$work"' EXIT INT TERM
status=0
changed=0

# The review comment: Markdown, one section per step.
note() { printf '%s\n' "$*" >>"$work/comment"; }
# md NAME: a file or revision name fit for inline code in Markdown: what is not
# printable (a newline, a tab) becomes '?', and a backquote a quote, so a name
# cannot end the code span or start a line of its own.
md() { printf '%s' "$1" | tr -c '[:print:]' '?' | tr '`' "'"; }
# fenced FILE: FILE in a code block whose fence is longer than any run of
# backquotes in it, so nothing in it can close the block early.
fenced() {
	fence=$(awk '{ while (match($0, /`+/)) { if (RLENGTH > n) n = RLENGTH; $0 = substr($0, RSTART + RLENGTH) } }
		END { n = n < 3 ? 3 : n + 1; s = ""; while (n-- > 0) s = s "`"; print s }' "$1")
	note "$fence"
	cat "$1" >>"$work/comment"
	note "$fence"
}

echo "== portcullis check --strict"
note "## portcullis review against \`$(md "$base")\`"
note ""
if "$pc" check --strict -- "$@" >"$work/check" 2>&1; then
	cat "$work/check"
	note "**check --strict:** passed."
else
	cat "$work/check"
	note "**check --strict: failed.**"
	fenced "$work/check"
	status=1
fi

echo "== portcullis compare --git $base"
note ""
note "### What the change does to packets"
for f in "$@"; do
	# The policy in the base revision: REV:./PATH is relative to the current
	# directory, whatever characters the name holds.
	case $f in
	/*)
		top=$(git rev-parse --show-toplevel)
		spec="$base:${f#"$top"/}"
		;;
	*) spec="$base:./$f" ;;
	esac
	if ! git cat-file -e "$spec" 2>/dev/null; then
		echo "$f: new policy (not in $base)"
		note ""
		note "\`$(md "$f")\`: a new policy, not in \`$(md "$base")\`: review it whole."
		continue
	fi
	"$pc" compare --git "$base" -- "$f" >"$work/compare" 2>&1
	rc=$?
	echo "-- $f"
	cat "$work/compare"
	note ""
	case $rc in
	0) note "\`$(md "$f")\`: no change in verdicts." ;;
	1)
		note "\`$(md "$f")\`: **verdicts change**:"
		fenced "$work/compare"
		changed=$((changed + 1))
		;;
	*)
		note "\`$(md "$f")\`: **compare failed** (exit $rc):"
		fenced "$work/compare"
		status=1
		;;
	esac
done
if [ "$changed" -gt 0 ] && [ "$fail_on_change" = true ]; then
	status=1
fi

if [ -n "$rendered" ]; then
	echo "== portcullis render --check-up-to-date $rendered"
	note ""
	if "$pc" render --check-up-to-date "$rendered" -- "$@" >"$work/render" 2>&1; then
		cat "$work/render"
		note "**Renderings in \`$(md "$rendered")\`:** up to date."
	else
		cat "$work/render"
		note "**Renderings in \`$(md "$rendered")\` are stale:**"
		fenced "$work/render"
		status=1
	fi
fi

if [ -n "$comment" ]; then
	cp "$work/comment" "$comment" || status=3
fi
echo "== review: $([ $status = 0 ] && echo passed || echo FAILED), $changed of $# policies change verdicts"
exit $status

#!/usr/bin/env bash
# The layers of user/ (docs/architecture.md): each may include only its
# own folder and the layers below it, and no function is longer than 80
# lines unless the comment above it says why ("long:").
#   lib/ <- policy/ <- datapath/ <- cli/
# Prints one line per offence and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-80}
layers=(lib policy datapath cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }

bad=0 files=0
for f in user/*/*.[ch]; do
	files=$((files + 1))
	layer=${f#user/}; layer=${layer%%/*}
	me=$(rank "$layer")
	if [ "$me" -lt 0 ]; then
		echo "$f: user/$layer/ is not a layer (${layers[*]}): move the file or add the layer here"
		bad=$((bad + 1)); continue
	fi
	while IFS=: read -r line inc; do
		inc=${inc#*\"}; inc=${inc%\"*}
		case $inc in
		*/*)	to=${inc%%/*}
			them=$(rank "$to")
			if [ "$them" -lt 0 ] || [ "$them" -gt "$me" ]; then
				echo "$f:$line: includes \"$inc\": $layer/ may include only ${layers[*]:0:$((me + 1))}"
				bad=$((bad + 1))
			fi ;;
		esac
	done < <(grep -n '^#include "' "$f")
done

# function lengths: a definition starts at a line in column 0 ending a
# signature and "{" alone in column 0, and ends at "}" in column 0
long=$(awk -v LIM="$LIMIT" '
	FNR == 1 { why = 0; sig = ""; start = 0 }
	/long:/ { why = FNR }
	/^[A-Za-z_].*\(/ && !/;[ \t]*$/ { sig = $0; sigline = FNR }
	/^\{/ && sig != "" { start = sigline; excused = why && sigline - why < 12 }
	/^\}/ && start {
		n = FNR - start + 1
		if (n > LIM && !excused)
			printf "%s:%d: %s is %d lines (at most %d, or say why with \"long:\" in the comment above it)\n",
				FILENAME, start, sig, n, LIM
		start = 0; sig = ""
	}' user/*/*.c)
if [ -n "$long" ]; then
	printf '%s\n' "$long"
	bad=$((bad + $(printf '%s\n' "$long" | wc -l)))
fi
echo "checked $files files in ${#layers[@]} layers"
if [ "$bad" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, $bad failed"; fi
[ "$bad" -eq 0 ]

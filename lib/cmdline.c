/*
 * lib/cmdline.c - words of the boot command line (see cmdline.h).
 */
#include "lib/cmdline.h"
#include "lib/string.h"

/* See cmdline.h. */
int cmdline_has(const char *cmdline, const char *word)
{
	size_t len = strlen(word);
	if (len == 0)
		return 0;       /* an empty word is never one (nor are the gaps
				 * between two spaces) */
	for (const char *w = cmdline; *w;) {
		const char *e = w;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - w) == len && !memcmp(w, word, len))
			return 1;
		w = *e ? e + 1 : e;
	}
	return 0;
}

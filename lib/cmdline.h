/*
 * lib/cmdline.h - words of the boot command line (\boot\cmdline, in
 * BootInfo): space-separated, as both the loader and the kernel read them.
 */
#ifndef LIB_CMDLINE_H
#define LIB_CMDLINE_H

/* Returns 1 if word (a NUL-terminated string) is one of the
 * space-separated words of cmdline (NUL-terminated), else 0; an empty
 * word is never found. */
int cmdline_has(const char *cmdline, const char *word);

#endif

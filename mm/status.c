/* mm/status.c - names of the mm status codes. */
#include "mm/status.h"

/* Returns a static string naming status s; "MM_?" for an unknown code. */
const char *mm_status_str(int s)
{
	static const char *const names[] = {
		[MM_OK] = "MM_OK",           [MM_ENOMEM] = "MM_ENOMEM",
		[MM_EINVAL] = "MM_EINVAL",   [MM_EBUSY] = "MM_EBUSY",
		[MM_ENOENT] = "MM_ENOENT",   [MM_ERANGE] = "MM_ERANGE",
		[MM_EOVERFLOW] = "MM_EOVERFLOW", [MM_EOWNER] = "MM_EOWNER",
	};
	if (s < 0 || s >= (int)(sizeof(names) / sizeof(names[0])) || !names[s])
		return "MM_?";
	return names[s];
}

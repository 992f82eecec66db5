/*
 * efi/file.c - reading files from the volume the loader was started from,
 * through the Loaded Image and Simple File System protocols.
 */
#include "efi/loader.h"
#include "lib/fmt.h"
#include "mm/x86_64.h"

/* See loader.h. */
EFI_STATUS file_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root)
{
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *li;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_STATUS st;

	st = efi_bs->HandleProtocol(image, &li_guid, (void **)&li);
	if (EFI_ERROR(st))
		return lfail(st, "no Loaded Image protocol on our own image handle");
	st = efi_bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs);
	if (EFI_ERROR(st))
		return lfail(st, "the boot device has no file system protocol");
	st = fs->OpenVolume(fs, root);
	if (EFI_ERROR(st))
		return lfail(st, "cannot open the boot volume");
	return EFI_SUCCESS;
}

/* Reports why file name cannot be used: for an optional file one line and
 * EFI_NOT_FOUND (the boot goes on as if it were absent), otherwise a loader
 * error with status st. */
static EFI_STATUS file_refuse(int optional, EFI_STATUS st, const char *name, const char *why,
			      uint64_t a, uint64_t b)
{
	char msg[128];
	fmt_snprintf(msg, sizeof(msg), why, (unsigned long long)a, (unsigned long long)b);
	if (!optional)
		return lfail(st, "%s: %s", name, msg);
	lprintf("memboot: %s: %s; going on without it\n", name, msg);
	return EFI_NOT_FOUND;
}

/* See loader.h. */
EFI_STATUS file_read(EFI_FILE_HANDLE root, const CHAR16 *path, const char *name,
		     uint64_t max, int optional, uint64_t *pa, uint64_t *size)
{
	EFI_GUID info_guid = EFI_FILE_INFO_ID;
	EFI_FILE_HANDLE f;
	/* EFI_FILE_INFO ends in the file name: 512 bytes holds any name here. */
	union {
		EFI_FILE_INFO info;
		uint8_t bytes[512];
	} u;
	UINTN len = sizeof(u);
	EFI_STATUS st;

	st = root->Open(root, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (st == EFI_NOT_FOUND)
		return st;
	if (EFI_ERROR(st))
		return file_refuse(optional, st, name, "cannot open it (status 0x%llx)", st, 0);
	st = f->GetInfo(f, &info_guid, &len, &u.info);
	if (EFI_ERROR(st)) {
		f->Close(f);
		return file_refuse(optional, st, name, "cannot get its size (status 0x%llx)", st, 0);
	}
	uint64_t fsize = u.info.FileSize;
	if (u.info.Attribute & EFI_FILE_DIRECTORY) {
		f->Close(f);
		return file_refuse(optional, EFI_LOAD_ERROR, name, "is a directory, not a file", 0, 0);
	}
	if (fsize == 0 || fsize > max) {
		f->Close(f);
		return file_refuse(optional, EFI_LOAD_ERROR, name,
				   "is %llu bytes (allowed: 1 to %llu)", fsize, max);
	}
	st = lalloc_pages(PAGE_ROUND_UP(fsize) >> PAGE_SHIFT, pa);
	if (EFI_ERROR(st)) {
		f->Close(f);
		return file_refuse(optional, st, name, "no memory for its %llu bytes", fsize, 0);
	}
	len = fsize;
	st = f->Read(f, &len, (void *)(uintptr_t)*pa);
	f->Close(f);
	if (EFI_ERROR(st) || len != fsize) {
		efi_bs->FreePages(*pa, PAGE_ROUND_UP(fsize) >> PAGE_SHIFT);
		return file_refuse(optional, EFI_ERROR(st) ? st : EFI_LOAD_ERROR, name,
				   "read %llu of %llu bytes", len, fsize);
	}
	*size = fsize;
	return EFI_SUCCESS;
}

/*
 * efi/file.c - reading files from the volume the loader was started from,
 * through the Loaded Image and Simple File System protocols.
 */
#include "efi/loader.h"
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

/* See loader.h. */
EFI_STATUS file_read(EFI_FILE_HANDLE root, const CHAR16 *path, const char *name,
		     uint64_t max, uint64_t *pa, uint64_t *size)
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
		return lfail(st, "cannot open %s", name);
	st = f->GetInfo(f, &info_guid, &len, &u.info);
	if (EFI_ERROR(st)) {
		f->Close(f);
		return lfail(st, "cannot get the size of %s", name);
	}
	uint64_t fsize = u.info.FileSize;
	if (fsize == 0 || fsize > max) {
		f->Close(f);
		return lfail(EFI_LOAD_ERROR, "%s is %llu bytes (allowed: 1 to %llu)", name,
			     (unsigned long long)fsize, (unsigned long long)max);
	}
	st = lalloc_pages(PAGE_ROUND_UP(fsize) >> PAGE_SHIFT, pa);
	if (EFI_ERROR(st)) {
		f->Close(f);
		return lfail(st, "no memory for %s (%llu bytes)", name, (unsigned long long)fsize);
	}
	len = fsize;
	st = f->Read(f, &len, (void *)(uintptr_t)*pa);
	f->Close(f);
	if (EFI_ERROR(st) || len != fsize) {
		efi_bs->FreePages(*pa, PAGE_ROUND_UP(fsize) >> PAGE_SHIFT);
		return lfail(EFI_ERROR(st) ? st : EFI_LOAD_ERROR, "read %llu of %llu bytes of %s",
			     (unsigned long long)len, (unsigned long long)fsize, name);
	}
	*size = fsize;
	return EFI_SUCCESS;
}

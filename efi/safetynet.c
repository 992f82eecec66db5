/*
 * efi/safetynet.c - the loader's safety-net IDT for the hand-over.
 *
 * Between ExitBootServices and the kernel's own IDT (trap_init, the first
 * thing kmain does) a CPU exception would find the firmware's IDT - gone
 * with boot services and unmapped in the kernel's tables - and end in a
 * triple fault: a PC without -no-reboot then resets, silently, forever.
 * The net catches those exceptions instead: it prints
 *   memboot: loader safety net: exception <v> (<name>) at rip 0x<rip> error 0x<e>[ cr2 0x<a>]
 * on COM1 and QEMU's debugcon (port 0xe9), paints a red band on the
 * framebuffer, and halts forever with interrupts off (never a reset).
 *
 * Where it lives (everything must work with the kernel's page tables and
 * with a kernel stack pointer that may be garbage):
 *   - the handler code is in the loader image, identity-mapped read-only
 *     and executable in the kernel's tables (efi/main.c), with everything
 *     it reads (this file's globals, string constants);
 *   - its GDT, TSS, IDT and stack are one "net area" of loader data pages,
 *     identity-mapped RW+NX in the kernel's tables; every gate uses IST 1,
 *     the net's own stack, so even a bad RSP is reported;
 *   - the framebuffer, if any, is identity-mapped write-through.
 * The kernel drops the lower half (all of the above) right after its own
 * trap_init, so the net costs the kernel nothing.
 */
#include "efi/loader.h"
#include "lib/fmt.h"
#include "mm/x86_64.h"

#define NET_VECTORS   32
#define NET_SEL_CODE  0x08
#define NET_SEL_DATA  0x10
#define NET_SEL_TSS   0x18
/* Descriptors (Intel SDM vol. 3, 3.4.5), accessed bits already set so the
 * CPU never writes them: 64-bit code (L, present, DPL 0, readable) and
 * writable data; a 64-bit available TSS. */
#define NET_GDT_CODE  0x00af9b000000ffffULL
#define NET_GDT_DATA  0x00cf93000000ffffULL
#define NET_TSS_TYPE  0x89ULL
#define NET_INTGATE   0x8e       /* present, DPL 0, 64-bit interrupt gate */
#define NET_IST       1
/* Each stub is padded to this many bytes, so stub v is at net_stubs + 16 v. */
#define NET_STUB_SIZE 16
/* Rows of the red band at the top of the screen. */
#define NET_BAND_ROWS 48
#define COM1          0x3f8
#define COM1_LSR      (COM1 + 5)
#define LSR_THRE      0x20       /* transmit holding register empty */
#define COM_SPINS     100000     /* give up on a dead UART after this */
#define DEBUGCON      0xe9

/* Packed with #pragma pack: the Microsoft layout this file is built with
 * ignores __attribute__((packed)). */
#pragma pack(push, 1)
struct net_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct net_tss) == 104, "TSS layout");

struct net_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};
_Static_assert(sizeof(struct net_gate) == 16, "IDT gate layout");

struct net_desc_ptr {
	uint16_t limit;
	uint64_t base;
};
#pragma pack(pop)

/* The net area: tables first, the stack fills the rest of its pages. */
struct net_area {
	uint64_t gdt[NET_SEL_TSS / 8 + 2];
	struct net_tss tss;
	struct net_gate idt[NET_VECTORS];
	uint64_t entered;           /* exceptions taken: a second one only halts */
	struct bootinfo_fb fb;      /* identity-mapped framebuffer, if fb_bpp */
	uint32_t fb_bpp;            /* bytes per pixel, 0: no framebuffer */
	uint32_t fb_red;            /* the pixel value of red */
};
_Static_assert(sizeof(struct net_area) <= 2048, "net area tables fit in half a page");

/* Set by safetynet_prepare; only read once boot services are gone (the
 * loader image is read-only in the kernel's tables). */
static struct net_area *net;

static const char *const net_names[NET_VECTORS] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault",
	"coprocessor segment overrun", "invalid TSS", "segment not present",
	"stack-segment fault", "general protection", "page fault", "reserved",
	"x87 FP error", "alignment check", "machine check", "SIMD FP error",
	"virtualization", "control protection", "reserved", "reserved", "reserved",
	"reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

/*
 * The stubs: the CPU pushes an error code for vectors 8, 10-14, 17, 21, 29
 * and 30 (SDM vol. 3, 6.15); the others push a 0 so the frame is the same.
 * net_common passes vector, error, RIP and CR2 to safetynet_report (Microsoft
 * x64 ABI: RCX, RDX, R8, R9, 32 bytes of shadow space, RSP 16-aligned).
 */
#define STUB(v)     ".balign 16\n\tpushq $0\n\tpushq $" #v "\n\tjmp net_common\n\t"
#define STUB_ERR(v) ".balign 16\n\tpushq $" #v "\n\tjmp net_common\n\t"
__asm__(
	".text\n\t"
	".balign 16\n\t"
	".globl net_stubs\n"
	"net_stubs:\n\t"
	STUB(0) STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6) STUB(7)
	STUB_ERR(8) STUB(9) STUB_ERR(10) STUB_ERR(11) STUB_ERR(12) STUB_ERR(13)
	STUB_ERR(14) STUB(15) STUB(16) STUB_ERR(17) STUB(18) STUB(19) STUB(20)
	STUB_ERR(21) STUB(22) STUB(23) STUB(24) STUB(25) STUB(26) STUB(27) STUB(28)
	STUB_ERR(29) STUB_ERR(30) STUB(31)
	".balign 16\n\t"
	".org net_stubs + 32 * 16\n"   /* an error if a stub outgrew 16 bytes */
	"net_common:\n\t"
	"movq 0(%rsp), %rcx\n\t"
	"movq 8(%rsp), %rdx\n\t"
	"movq 16(%rsp), %r8\n\t"
	"movq %cr2, %r9\n\t"
	"andq $-16, %rsp\n\t"
	"subq $32, %rsp\n\t"
	"call safetynet_report\n"
	"1:\n\t"
	"cli\n\t"
	"hlt\n\t"
	"jmp 1b\n");
extern const char net_stubs[];

static inline void net_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t net_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Writes c to COM1, polling the UART the firmware set up (a dead one is
 * given up on after COM_SPINS polls). */
static void net_com1(char c)
{
	for (int i = 0; i < COM_SPINS && !(net_inb(COM1_LSR) & LSR_THRE); i++)
		;
	net_outb(COM1, (uint8_t)c);
}

/* Writes s to COM1 (\n as \r\n) and to the debugcon port. */
static void net_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			net_com1('\r');
		net_com1(*s);
		net_outb(DEBUGCON, (uint8_t)*s);
	}
}

/* Paints the top rows of the framebuffer red. */
static void net_red_band(void)
{
	const struct bootinfo_fb *fb = &net->fb;
	if (!net->fb_bpp)
		return;
	uint32_t rows = fb->height < NET_BAND_ROWS ? fb->height : NET_BAND_ROWS;
	for (uint32_t y = 0; y < rows; y++) {
		volatile uint8_t *line = (volatile uint8_t *)(uintptr_t)(fb->pa + (uint64_t)y * fb->pitch);
		for (uint32_t x = 0; x < fb->width; x++)
			for (uint32_t b = 0; b < net->fb_bpp; b++)
				line[x * net->fb_bpp + b] = (uint8_t)(net->fb_red >> (8 * b));
	}
}

/* The exception handler (called by net_common on the net's own stack): one
 * report, then halt forever.  A second exception (in here) only halts. */
__attribute__((noreturn, used)) void safetynet_report(uint64_t vector, uint64_t error,
							uint64_t rip, uint64_t cr2);
void safetynet_report(uint64_t vector, uint64_t error, uint64_t rip, uint64_t cr2)
{
	char line[192];
	if (net->entered++ == 0) {
		int n = fmt_snprintf(line, sizeof(line),
				     "\nmemboot: loader safety net: exception %llu (%s) at rip 0x%llx error 0x%llx",
				     (unsigned long long)vector,
				     vector < NET_VECTORS ? net_names[vector] : "?",
				     (unsigned long long)rip, (unsigned long long)error);
		if (vector == 14 && n > 0 && (size_t)n < sizeof(line))
			fmt_snprintf(line + n, sizeof(line) - n, " cr2 0x%llx", (unsigned long long)cr2);
		net_puts(line);
		net_puts("\nmemboot: loader safety net: halted (no reset)\n");
		net_red_band();
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* See loader.h. */
EFI_STATUS safetynet_prepare(uint64_t *pa, uint64_t *size)
{
	uint64_t a;
	EFI_STATUS st = lalloc_pages(SAFETYNET_PAGES, &a);
	if (EFI_ERROR(st))
		return lfail(st, "no memory for the safety-net IDT");
	net = (struct net_area *)(uintptr_t)a;
	*pa = a;
	*size = SAFETYNET_PAGES * PAGE_SIZE;

	net->tss.ist[NET_IST - 1] = a + SAFETYNET_PAGES * PAGE_SIZE;  /* top of the area */
	net->tss.iomap_base = sizeof(net->tss);
	uint64_t base = (uint64_t)(uintptr_t)&net->tss, limit = sizeof(net->tss) - 1;
	net->gdt[NET_SEL_CODE / 8] = NET_GDT_CODE;
	net->gdt[NET_SEL_DATA / 8] = NET_GDT_DATA;
	/* A 64-bit TSS descriptor takes two slots (SDM vol. 3, 8.2.3). */
	net->gdt[NET_SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				    (NET_TSS_TYPE << 40) | ((limit >> 16 & 0xf) << 48) |
				    ((base >> 24 & 0xff) << 56);
	net->gdt[NET_SEL_TSS / 8 + 1] = base >> 32;
	for (int v = 0; v < NET_VECTORS; v++) {
		uint64_t off = (uint64_t)(uintptr_t)net_stubs + (uint64_t)v * NET_STUB_SIZE;
		net->idt[v] = (struct net_gate){
			.off_lo = off & 0xffff, .sel = NET_SEL_CODE, .ist = NET_IST,
			.type = NET_INTGATE, .off_mid = (off >> 16) & 0xffff, .off_hi = off >> 32,
		};
	}
	return EFI_SUCCESS;
}

/* See loader.h. */
void safetynet_set_fb(const struct bootinfo_fb *fb)
{
	uint32_t masks = fb->red_mask | fb->green_mask | fb->blue_mask | fb->reserved_mask;
	uint32_t bpp = fb->format != BOOTINFO_FB_BITMASK ? 4 :
		       masks >> 24 ? 4 : masks >> 16 ? 3 : masks >> 8 ? 2 : 1;
	if ((uint64_t)bpp * fb->width > fb->pitch)
		return;
	net->fb = *fb;
	net->fb_bpp = bpp;
	net->fb_red = fb->format == BOOTINFO_FB_RGBX ? 0x000000ff :
		      fb->format == BOOTINFO_FB_BGRX ? 0x00ff0000 : fb->red_mask;
}

/* See loader.h. */
void safetynet_install(void)
{
	struct net_desc_ptr gp = { sizeof(net->gdt) - 1, (uint64_t)(uintptr_t)net->gdt };
	struct net_desc_ptr ip = { sizeof(net->idt) - 1, (uint64_t)(uintptr_t)net->idt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"mov %2, %%ax\n\t"
		"mov %%ax, %%ds\n\t"
		"mov %%ax, %%es\n\t"
		"mov %%ax, %%ss\n\t"
		"xor %%eax, %%eax\n\t"
		"mov %%ax, %%fs\n\t"
		"mov %%ax, %%gs\n\t"
		"pushq %1\n\t"
		"lea 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"ltr %w3\n\t"
		"lidt %4\n\t"
		: : "m"(gp), "i"(NET_SEL_CODE), "i"(NET_SEL_DATA), "r"(NET_SEL_TSS), "m"(ip)
		: "rax", "memory");
}

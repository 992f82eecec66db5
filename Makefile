# memboot - UEFI loader + higher-half C kernel + memory manager.
# `make help` lists every target and variable.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
SHELL := /bin/bash

BUILD      ?= build
MEM        ?= 512M
SMP        ?= 1
MACHINE    ?= q35
CPU        ?= max
QEMU_EXTRA ?=
SERIAL     ?= stdio
CMDLINE    ?= qemu-exit
FUZZ_SECONDS ?= 600
HOSTCC     ?= cc
CLANG      ?= clang

export MEM SMP MACHINE CPU QEMU_EXTRA SERIAL

# Resolved lazily: clang may only appear once the dependency step has run.
RESDIR = $(shell $(CLANG) -print-resource-dir)

# ---------------------------------------------------------------- dependencies
# tools/install-deps.sh checks every tool the build and the tests use and
# apt-installs what is missing (Debian 12).  The stamp makes it run once.
DEPS := $(BUILD)/.deps-ok
$(DEPS): tools/install-deps.sh
	@tools/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

# ---------------------------------------------------------------- kernel
KCFLAGS = --target=x86_64-unknown-none-elf -std=c11 -ffreestanding -nostdinc \
	-isystem $(RESDIR)/include -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-80387 \
	-fno-stack-protector -fno-omit-frame-pointer -fno-builtin-printf \
	-O2 -g -Wall -Wextra -Werror=implicit-function-declaration -I. -MMD -MP \
	-DMM_PLATFORM_INLINE='"kernel/mem/mm_platform_inline.h"'

# mm/platform.h's per-CPU primitives, inline, for every host build (tests,
# TSan, benchmarks, fuzzers).
HOST_INLINE = -DMM_PLATFORM_INLINE='"tools/host_platform_inline.h"'

# lib/ is the freestanding ground floor (formatter, string functions), mm/
# the portable memory manager, kernel/ the rest by subsystem (README: layout).
LIB_SRC    := lib/cmdline.c lib/fmt.c lib/string.c
KERNEL_SRC := $(sort $(shell find kernel -name '*.c' -o -name '*.S') $(wildcard mm/*.c) $(LIB_SRC))
KERNEL_OBJ := $(patsubst %,$(BUILD)/kernel/%.o,$(KERNEL_SRC))

$(BUILD)/kernel/%.c.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) $(KCFLAGS) -c $< -o $@

$(BUILD)/kernel/%.S.o: %.S | $(DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) $(KCFLAGS) -c $< -o $@

$(BUILD)/kernel.elf: $(KERNEL_OBJ) kernel/linker.ld
	ld.lld -T kernel/linker.ld -nostdlib -static -z max-page-size=0x1000 \
		-o $@ $(KERNEL_OBJ)

# ---------------------------------------------------------------- loader
# PE32+ for the Windows x86_64 ABI, which is the UEFI calling convention.
# gnu-efi supplies the headers only: its libefi.a is ELF and cannot be linked.
EFI_INC   := /usr/include/efi
EFI_CFLAGS = --target=x86_64-unknown-windows -std=c11 -ffreestanding \
	-fshort-wchar -mno-red-zone -mno-mmx -mno-sse -fno-stack-protector -mno-stack-arg-probe \
	-fno-builtin-printf -O2 -Wall -Wextra \
	-Werror=implicit-function-declaration \
	-I$(EFI_INC) -I$(EFI_INC)/x86_64 -I$(EFI_INC)/protocol -I. -MMD -MP
# mm/hhdm.c plans the direct map; mm/status.c names its status codes.
EFI_SRC := $(sort $(filter-out efi/pins.c,$(wildcard efi/*.c))) $(LIB_SRC) mm/hhdm.c mm/pgmode.c mm/status.c
EFI_OBJ := $(patsubst %,$(BUILD)/efi/%.o,$(EFI_SRC))
EFI_LINK = lld-link -subsystem:efi_application -entry:efi_main -nodefaultlib -out:$@

$(BUILD)/efi/%.c.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) $(EFI_CFLAGS) -c $< -o $@

# Two links (efi/pins.h): the development loader accepts any kernel.elf; the
# pinned one, for `make image`, only the kernel.elf and initrd built here.
$(BUILD)/efi/pins-off.o: efi/pins.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) $(EFI_CFLAGS) -c $< -o $@
$(BUILD)/efi/pins-on.o: efi/pins.c $(BUILD)/pin_digests.h
	$(CLANG) $(EFI_CFLAGS) -DMEMBOOT_PINNED -I$(BUILD) -c $< -o $@
$(BUILD)/pin_digests.h: esp/boot/kernel.elf esp/boot/initrd tools/pin-hashes.sh
	tools/pin-hashes.sh $@ esp/boot/kernel.elf esp/boot/initrd

$(BUILD)/BOOTX64.EFI: $(EFI_OBJ) $(BUILD)/efi/pins-off.o
	$(EFI_LINK) $^
$(BUILD)/BOOTX64-pinned.EFI: $(EFI_OBJ) $(BUILD)/efi/pins-on.o
	$(EFI_LINK) $^

# The boot benchmark's floor (efi/floor/floor.c): a UEFI application that
# prints one line and exits QEMU, on an ESP of its own.
$(BUILD)/floor/BOOTX64.EFI: $(BUILD)/efi/efi/floor/floor.c.o
	@mkdir -p $(dir $@)
	$(EFI_LINK) $^
$(BUILD)/floor.img: $(BUILD)/floor/BOOTX64.EFI tools/mkesp.sh
	rm -rf $(BUILD)/floor/esp && mkdir -p $(BUILD)/floor/esp/EFI/BOOT
	cp $< $(BUILD)/floor/esp/EFI/BOOT/BOOTX64.EFI
	tools/mkesp.sh $@ $(BUILD)/floor/esp

# ---------------------------------------------------------------- ESP
# esp/ is the staging tree of the EFI system partition; build products are
# copied in (and ignored by git), then build/esp.img is made with mtools.
# build/esp.img adds \boot\cmdline (CMDLINE, default qemu-exit) for QEMU.
INITRD_DIR := initrd
INITRD_SRC := $(shell find $(INITRD_DIR) -type f 2>/dev/null)
ESP_FILES := esp/EFI/BOOT/BOOTX64.EFI esp/boot/kernel.elf esp/boot/initrd

esp/EFI/BOOT/BOOTX64.EFI: $(BUILD)/BOOTX64.EFI
	@mkdir -p $(dir $@) && cp $< $@
esp/boot/kernel.elf: $(BUILD)/kernel.elf
	@mkdir -p $(dir $@) && cp $< $@
esp/boot/initrd: $(INITRD_SRC) | $(DEPS)
	@mkdir -p $(dir $@)
	tools/mkinitrd.sh $(INITRD_DIR) $@

$(BUILD)/esp.img: $(ESP_FILES) tools/mkesp.sh FORCE_CMDLINE
	tools/mkesp.sh $@ esp "$(CMDLINE)"

.PHONY: FORCE_CMDLINE
FORCE_CMDLINE:

# A disk for a real PC: GPT with one EFI system partition holding the ESP
# tree with the pinned loader and \boot\cmdline = IMAGE_CMDLINE (empty by
# default: a PC halts when done; `poweroff` or `reboot` end the boot
# through UEFI ResetSystem), BOOTX64.EFI signed with SB_KEY/SB_CERT (empty
# SB_KEY: unsigned).
IMAGE_CMDLINE ?=
SB_KEY      ?= /usr/share/ovmf/PkKek-1-snakeoil.key
SB_CERT     ?= /usr/share/ovmf/PkKek-1-snakeoil.pem
SB_KEY_PASS ?= snakeoil
IMAGE_ESP := $(BUILD)/image-esp

$(IMAGE_ESP)/.stamp: $(ESP_FILES) $(BUILD)/BOOTX64-pinned.EFI
	rm -rf $(IMAGE_ESP) && mkdir -p $(IMAGE_ESP)
	cp -R esp/. $(IMAGE_ESP)/
	cp $(BUILD)/BOOTX64-pinned.EFI $(IMAGE_ESP)/EFI/BOOT/BOOTX64.EFI
	touch $@

$(BUILD)/memboot.img: $(IMAGE_ESP)/.stamp tools/mkimage.sh FORCE_CMDLINE
	rm -f $(IMAGE_ESP)/boot/cmdline
	$(if $(IMAGE_CMDLINE),printf '%s\n' '$(IMAGE_CMDLINE)' > $(IMAGE_ESP)/boot/cmdline)
	KEY_PASS='$(SB_KEY_PASS)' tools/mkimage.sh $@ $(IMAGE_ESP) $(if $(SB_KEY),$(SB_KEY) $(SB_CERT))

# ---------------------------------------------------------------- host
# mm/ built for the host under ASan/UBSan, with tools/host_platform.c.
HOSTCFLAGS = -std=gnu11 -O1 -g -Wall -Wextra -I. -fno-omit-frame-pointer $(HOST_INLINE) \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -pthread -MMD -MP
HOST_LIB_SRC := $(sort $(wildcard mm/*.c)) tools/host_platform.c
HOST_LIB_OBJ := $(patsubst %,$(BUILD)/host/%.o,$(HOST_LIB_SRC))

$(BUILD)/host/%.c.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -c $< -o $@

$(BUILD)/host/memmap: $(BUILD)/host/tools/memmap.c.o $(HOST_LIB_OBJ)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $^

# One test program per tests/host/test_*.c.  A test that needs more sources
# names them: TEST_SRC_test_foo := kernel/foo.c
HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/host/bin/%,$(sort $(wildcard tests/host/test_*.c)))
-include $(wildcard tests/host/*.mk tests/bench/*.mk tests/fuzz/*.mk)

# Keep intermediate objects (test and bench objects are made by pattern
# rules); without this make deletes and rebuilds them on every run.
.SECONDARY:

.SECONDEXPANSION:
$(BUILD)/host/bin/%: $(BUILD)/host/tests/host/%.c.o $(HOST_LIB_OBJ) \
		$$(addprefix $(BUILD)/host/,$$(addsuffix .o,$$(TEST_SRC_$$*)))
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $^

# The same tests again under ThreadSanitizer, for those that start threads
# (every tests/host/test_*.c that includes <pthread.h>): a data race between
# host "CPUs" fails the run.
TSANCFLAGS = -std=gnu11 -O1 -g -Wall -Wextra -I. -fno-omit-frame-pointer $(HOST_INLINE) \
	-fsanitize=thread -pthread -MMD -MP
TSAN_TESTS := $(patsubst tests/host/%.c,$(BUILD)/tsan/bin/%,$(sort $(shell grep -l '<pthread.h>' tests/host/test_*.c)))
TSAN_LIB_OBJ := $(patsubst %,$(BUILD)/tsan/%.o,$(HOST_LIB_SRC))

$(BUILD)/tsan/%.c.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(TSANCFLAGS) -c $< -o $@

$(BUILD)/tsan/bin/%: $(BUILD)/tsan/tests/host/%.c.o $(TSAN_LIB_OBJ) \
		$$(addprefix $(BUILD)/tsan/,$$(addsuffix .o,$$(TEST_SRC_$$*)))
	@mkdir -p $(dir $@)
	$(HOSTCC) $(TSANCFLAGS) -o $@ $^

# ---------------------------------------------------------------- bench
BENCHCFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -I. -DNDEBUG -pthread -MMD -MP $(HOST_INLINE)
BENCH_LIB_OBJ := $(patsubst %,$(BUILD)/bench/%.o,$(HOST_LIB_SRC))
BENCHES := $(patsubst tests/bench/%.c,$(BUILD)/bench/bin/%,$(sort $(wildcard tests/bench/bench_*.c)))

$(BUILD)/bench/%.c.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(BENCHCFLAGS) -c $< -o $@

$(BUILD)/bench/bin/%: $(BUILD)/bench/tests/bench/%.c.o $(BENCH_LIB_OBJ) \
		$$(addprefix $(BUILD)/bench/,$$(addsuffix .o,$$(BENCH_SRC_$$*)))
	@mkdir -p $(dir $@)
	$(HOSTCC) $(BENCHCFLAGS) -o $@ $^

# ---------------------------------------------------------------- fuzz
# libFuzzer harnesses, one per tests/fuzz/fuzz_*.c; the code under test is
# named in tests/fuzz/fuzz.mk (FUZZ_SRC_fuzz_foo := kernel/foo.c).
FUZZCFLAGS = -std=gnu11 -O1 -g -I. -fsanitize=fuzzer,address,undefined $(HOST_INLINE) \
	-fno-sanitize-recover=undefined -MMD -MP
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/bin/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

$(BUILD)/fuzz/%.c.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZCFLAGS) -c $< -o $@

$(BUILD)/fuzz/bin/%: $(BUILD)/fuzz/tests/fuzz/%.c.o \
		$$(addprefix $(BUILD)/fuzz/,$$(addsuffix .o,$$(FUZZ_SRC_$$*)))
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZCFLAGS) -o $@ $^

# ---------------------------------------------------------------- targets
.PHONY: all run test test-host test-fuzz-short fuzz-controls test-boot test-big test-secureboot image bench boot-bench fuzz debug clean help

all: $(BUILD)/esp.img $(BUILD)/host/memmap ## build loader, kernel, ESP image and host tools

run: all ## boot build/esp.img in QEMU+OVMF, serial on the terminal
	tools/qemu-run.sh $(BUILD)/esp.img

test: test-host test-fuzz-short test-boot ## host tests, short fuzz runs, QEMU boot tests

test-fuzz-short: $(FUZZERS) ## the libFuzzer harnesses, 10 s each, and their controls
	tools/run-fuzz.sh 10
	tools/fuzz-controls.sh 60

fuzz-controls: $(DEPS) ## put old bugs back (tests/fuzz/controls/*.patch): each harness must find its bug within 60 s
	tools/fuzz-controls.sh 60

test-host: $(HOST_TESTS) $(TSAN_TESTS) $(BUILD)/host/memmap ## host tests of mm/ and parsers (ASan/UBSan; threaded ones under TSan too)
	@tools/run-host-tests.sh $(HOST_TESTS) $(TSAN_TESTS)

test-boot: all $(IMAGE_ESP)/.stamp ## QEMU boot tests (several configurations, in parallel)
	python3 tests/boot/boottest.py
	python3 tests/boot/matrix.py
	tests/boot/secureboot.sh $(IMAGE_ESP)

test-big: all $(IMAGE_ESP)/.stamp ## long boot tests: 16 TiB and 48 TiB guests as 8 TiB NUMA nodes (minutes each)
	python3 tests/boot/boottest.py --big

test-secureboot: all $(IMAGE_ESP)/.stamp ## GPT image + Secure Boot tests only
	tests/boot/secureboot.sh $(IMAGE_ESP)

image: $(BUILD)/memboot.img ## GPT disk image for a real PC (dd to a USB stick), signed; IMAGE_CMDLINE=poweroff|reboot powers off / resets when done

bench: $(BENCHES) ## benchmarks: `bench: <name> <value> <unit>` lines
	@for b in $(BENCHES); do $$b || exit 1; done

boot-bench: all $(BUILD)/floor.img ## boot time: floor vs memboot, interleaved, 5 boots each at 512M (slow; not in test)
	python3 tools/boot-bench.py $(BUILD)/floor.img $(BUILD)/esp.img

fuzz: $(FUZZERS) ## long libFuzzer runs (FUZZ_SECONDS each)
	tools/run-fuzz.sh $(FUZZ_SECONDS)

debug: all ## boot with QEMU waiting for gdb; then: gdb -x build/gdbinit
	@# A hardware breakpoint: the loader copies the kernel in after gdb attaches.
	printf 'file %s\ntarget remote :1234\nhbreak kmain\ncontinue\n' $(BUILD)/kernel.elf > $(BUILD)/gdbinit
	@echo "in another terminal: gdb -x $(BUILD)/gdbinit"
	tools/qemu-run.sh $(BUILD)/esp.img -s -S

clean: ## remove build output and staged ESP files
	rm -rf $(BUILD) $(ESP_FILES)

help: ## this list
	@echo "targets:"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-18s %s\n", $$1, $$2 }'
	@echo "variables (current value):"
	@echo "  MEM=$(MEM)  guest RAM (512M, 5G, 1T, 16T, 48T; >16G is a sparse file, >8T several as NUMA nodes)"
	@echo "  SMP=$(SMP)  CPUs"
	@echo "  MACHINE=$(MACHINE)  q35 or pc"
	@echo "  CPU=$(CPU)  QEMU -cpu model (max, qemu64...)"
	@echo "  QEMU_EXTRA=$(QEMU_EXTRA)  appended verbatim to the QEMU command line"
	@echo "  SERIAL=$(SERIAL)  QEMU -serial for make run/debug (none, file:out.log...); a -serial or -nographic in QEMU_EXTRA wins"
	@echo "  CMDLINE=$(CMDLINE)  \\boot\\cmdline of build/esp.img"
	@echo "  IMAGE_CMDLINE=$(IMAGE_CMDLINE)  \\boot\\cmdline of build/memboot.img (poweroff, reboot; empty: halt)"
	@echo "  FUZZ_SECONDS=$(FUZZ_SECONDS)  per harness, for make fuzz"
	@echo "  SB_KEY=$(SB_KEY) SB_CERT=$(SB_CERT)  signing key of make image (empty SB_KEY: unsigned)"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

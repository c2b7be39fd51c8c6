/**
 * Where the kernel publishes its BTF: a constant of its own, so that reading those
 * files does not load the syscall layer.
 *
 * @module
 */

/** Where the kernel publishes its BTF (vmlinux, and one file per module). */
export const SYSFS_BTF_DIR = "/sys/kernel/btf";

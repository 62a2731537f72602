// A SQLite VFS that forwards every call to the system's default VFS and can make chosen reads,
// writes or syncs of chosen files fail with an I/O error, as a failing disk does. For the
// simulator and the tests only: nothing shipped installs it.
#ifndef CCHC_FAULT_VFS_H
#define CCHC_FAULT_VFS_H

#ifdef __cplusplus
extern "C" {
#endif

/// What an armed fault fails.
typedef enum {
    CCHC_FAULT_WRITE = 1,  ///< xWrite (and xTruncate): SQLITE_IOERR_WRITE / SQLITE_IOERR_TRUNCATE
    CCHC_FAULT_SYNC = 2,   ///< xSync: SQLITE_IOERR_FSYNC
    CCHC_FAULT_READ = 4,   ///< xRead: SQLITE_IOERR_READ
} cchc_fault_kind;

/// Registers the VFS as the process's default (idempotent); SQLite's result code.
int cchc_fault_vfs_install(void);

/// Arms a fault on the files whose path begins with `path_prefix` (a database path also covers
/// its `-wal` and `-journal` files): among their calls of `kinds` (a mask of `cchc_fault_kind`),
/// the `after`-th from now (0: the next one) fails, and, when `sticky`, every one after it until
/// disarmed. Replaces the fault armed before on the same prefix; up to 64 prefixes at once (one
/// per concurrent simulated disk). Returns 0, or -1 when all 64 are taken.
int cchc_fault_arm(const char *path_prefix, int kinds, long after, int sticky);

/// Disarms the fault on `path_prefix`: its files' calls reach the disk again.
void cchc_fault_disarm(const char *path_prefix);

/// How many calls the fault on `path_prefix` failed since it was armed (it stays counted after a
/// one-shot fault fired, until disarmed).
long cchc_fault_injected(const char *path_prefix);

/// How many matching calls (failed or not) the fault on `path_prefix` saw since it was armed.
long cchc_fault_seen(const char *path_prefix);

#ifdef __cplusplus
}
#endif

#endif

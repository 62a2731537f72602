// See include/cchc_fault_vfs.h. The shim pattern of SQLite's own test VFSs (src/test_vfs.c): a
// file of this VFS is our header followed by the real VFS's file, and every method forwards.
#include "cchc_fault_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    sqlite3_file base;
    sqlite3_file *real;
    /// The path it was opened with (NULL for SQLite's nameless temporary files).
    char *path;
} FaultFile;

static sqlite3_vfs fault_vfs;
static sqlite3_vfs *real_vfs;
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    char *prefix; /// NULL: a free slot
    size_t length;
    int kinds;
    long after;
    int sticky;
    int fired; /// a one-shot fault that has failed its call
    long injected;
    long seen;
} Fault;

#define FAULT_SLOTS 64
static Fault faults[FAULT_SLOTS];

static Fault *find(const char *prefix) {
    for (int i = 0; i < FAULT_SLOTS; i++) {
        if (faults[i].prefix && strcmp(faults[i].prefix, prefix) == 0) return &faults[i];
    }
    return NULL;
}

/// Whether this call fails: counts it against the fault armed on its file's path, if any.
static int should_fail(FaultFile *f, int kind) {
    if (!f->path) return 0;
    int fail = 0;
    pthread_mutex_lock(&fault_lock);
    for (int i = 0; i < FAULT_SLOTS; i++) {
        Fault *x = &faults[i];
        if (!x->prefix || !(x->kinds & kind) || strncmp(f->path, x->prefix, x->length) != 0) continue;
        x->seen += 1;
        if (x->fired) break;
        if (x->after == 0) {
            fail = 1;
            x->injected += 1;
            if (!x->sticky) x->fired = 1;
        } else {
            x->after -= 1;
        }
        break;
    }
    pthread_mutex_unlock(&fault_lock);
    return fail;
}

#define REAL(p) (((FaultFile *)(p))->real)

static int f_close(sqlite3_file *p) {
    FaultFile *f = (FaultFile *)p;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    free(f->path);
    f->path = NULL;
    return rc;
}

static int f_read(sqlite3_file *p, void *buf, int amt, sqlite3_int64 off) {
    if (should_fail((FaultFile *)p, CCHC_FAULT_READ)) return SQLITE_IOERR_READ;
    return REAL(p)->pMethods->xRead(REAL(p), buf, amt, off);
}

static int f_write(sqlite3_file *p, const void *buf, int amt, sqlite3_int64 off) {
    if (should_fail((FaultFile *)p, CCHC_FAULT_WRITE)) return SQLITE_IOERR_WRITE;
    return REAL(p)->pMethods->xWrite(REAL(p), buf, amt, off);
}

static int f_truncate(sqlite3_file *p, sqlite3_int64 size) {
    if (should_fail((FaultFile *)p, CCHC_FAULT_WRITE)) return SQLITE_IOERR_TRUNCATE;
    return REAL(p)->pMethods->xTruncate(REAL(p), size);
}

static int f_sync(sqlite3_file *p, int flags) {
    if (should_fail((FaultFile *)p, CCHC_FAULT_SYNC)) return SQLITE_IOERR_FSYNC;
    return REAL(p)->pMethods->xSync(REAL(p), flags);
}

static int f_file_size(sqlite3_file *p, sqlite3_int64 *size) { return REAL(p)->pMethods->xFileSize(REAL(p), size); }
static int f_lock(sqlite3_file *p, int level) { return REAL(p)->pMethods->xLock(REAL(p), level); }
static int f_unlock(sqlite3_file *p, int level) { return REAL(p)->pMethods->xUnlock(REAL(p), level); }
static int f_check_reserved(sqlite3_file *p, int *out) { return REAL(p)->pMethods->xCheckReservedLock(REAL(p), out); }
static int f_file_control(sqlite3_file *p, int op, void *arg) { return REAL(p)->pMethods->xFileControl(REAL(p), op, arg); }
static int f_sector_size(sqlite3_file *p) { return REAL(p)->pMethods->xSectorSize(REAL(p)); }
static int f_device_characteristics(sqlite3_file *p) { return REAL(p)->pMethods->xDeviceCharacteristics(REAL(p)); }

static int f_shm_map(sqlite3_file *p, int region, int size, int extend, void volatile **out) {
    return REAL(p)->pMethods->xShmMap(REAL(p), region, size, extend, out);
}
static int f_shm_lock(sqlite3_file *p, int offset, int n, int flags) { return REAL(p)->pMethods->xShmLock(REAL(p), offset, n, flags); }
static void f_shm_barrier(sqlite3_file *p) { REAL(p)->pMethods->xShmBarrier(REAL(p)); }
static int f_shm_unmap(sqlite3_file *p, int delete_flag) { return REAL(p)->pMethods->xShmUnmap(REAL(p), delete_flag); }

// Memory-mapped reads would bypass xRead: a fault VFS offers none (SQLite then reads).
static int f_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **out) {
    (void)p;
    (void)off;
    (void)amt;
    *out = NULL;
    return SQLITE_OK;
}
static int f_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page) {
    (void)page;
    (void)off;
    (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods fault_methods_v1 = {
    1, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock, f_check_reserved,
    f_file_control, f_sector_size, f_device_characteristics, 0, 0, 0, 0, 0, 0,
};

static const sqlite3_io_methods fault_methods_v3 = {
    3, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock, f_check_reserved,
    f_file_control, f_sector_size, f_device_characteristics, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap,
    f_fetch, f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    FaultFile *f = (FaultFile *)file;
    f->real = (sqlite3_file *)&f[1];
    f->path = name ? strdup(name) : NULL;
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (f->real->pMethods == NULL) {
        // The real open failed before a file existed: SQLite will not call xClose.
        free(f->path);
        f->path = NULL;
        file->pMethods = NULL;
        return rc;
    }
    file->pMethods = f->real->pMethods->iVersion >= 3 ? &fault_methods_v3 : &fault_methods_v1;
    return rc;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static void *v_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}
static void v_dl_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}
static void (*v_dl_sym(sqlite3_vfs *vfs, void *handle, const char *sym))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, sym);
}
static void v_dl_close(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    real_vfs->xDlClose(real_vfs, handle);
}
static int v_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int v_current_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int v_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}
static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

int cchc_fault_vfs_install(void) {
    pthread_mutex_lock(&fault_lock);
    if (real_vfs) {
        pthread_mutex_unlock(&fault_lock);
        return SQLITE_OK;
    }
    int rc = sqlite3_initialize();
    sqlite3_vfs *base = rc == SQLITE_OK ? sqlite3_vfs_find(NULL) : NULL;
    if (!base) {
        pthread_mutex_unlock(&fault_lock);
        return rc == SQLITE_OK ? SQLITE_ERROR : rc;
    }
    real_vfs = base;
    memset(&fault_vfs, 0, sizeof fault_vfs);
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = (int)sizeof(FaultFile) + base->szOsFile;
    fault_vfs.mxPathname = base->mxPathname;
    fault_vfs.zName = "cchc-fault";
    fault_vfs.xOpen = v_open;
    fault_vfs.xDelete = v_delete;
    fault_vfs.xAccess = v_access;
    fault_vfs.xFullPathname = v_full_pathname;
    fault_vfs.xDlOpen = v_dl_open;
    fault_vfs.xDlError = v_dl_error;
    fault_vfs.xDlSym = v_dl_sym;
    fault_vfs.xDlClose = v_dl_close;
    fault_vfs.xRandomness = v_randomness;
    fault_vfs.xSleep = v_sleep;
    fault_vfs.xCurrentTime = v_current_time;
    fault_vfs.xGetLastError = v_get_last_error;
    fault_vfs.xCurrentTimeInt64 = v_current_time_int64;
    rc = sqlite3_vfs_register(&fault_vfs, 1);
    if (rc != SQLITE_OK) real_vfs = NULL;
    pthread_mutex_unlock(&fault_lock);
    return rc;
}

int cchc_fault_arm(const char *path_prefix, int kinds, long after, int sticky) {
    if (!path_prefix) return -1;
    pthread_mutex_lock(&fault_lock);
    Fault *x = find(path_prefix);
    for (int i = 0; !x && i < FAULT_SLOTS; i++) {
        if (!faults[i].prefix) x = &faults[i];
    }
    if (!x) {
        pthread_mutex_unlock(&fault_lock);
        return -1;
    }
    if (!x->prefix) x->prefix = strdup(path_prefix);
    x->length = strlen(path_prefix);
    x->kinds = kinds;
    x->after = after < 0 ? 0 : after;
    x->sticky = sticky;
    x->fired = 0;
    x->injected = 0;
    x->seen = 0;
    pthread_mutex_unlock(&fault_lock);
    return 0;
}

void cchc_fault_disarm(const char *path_prefix) {
    if (!path_prefix) return;
    pthread_mutex_lock(&fault_lock);
    Fault *x = find(path_prefix);
    if (x) {
        free(x->prefix);
        memset(x, 0, sizeof *x);
    }
    pthread_mutex_unlock(&fault_lock);
}

long cchc_fault_injected(const char *path_prefix) {
    pthread_mutex_lock(&fault_lock);
    Fault *x = path_prefix ? find(path_prefix) : NULL;
    long n = x ? x->injected : 0;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

long cchc_fault_seen(const char *path_prefix) {
    pthread_mutex_lock(&fault_lock);
    Fault *x = path_prefix ? find(path_prefix) : NULL;
    long n = x ? x->seen : 0;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

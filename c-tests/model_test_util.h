/*
 * model_test_util.h — helpers shared by the model-file, misuse and thread
 * tests: whole-file reads/writes, a private temporary directory, running a
 * check in a child process (optionally without root privileges), and
 * comparing networks bit for bit.
 *
 * Include it AFTER defining _XOPEN_SOURCE (the tests build as strict C11).
 */
#ifndef SWIFTMLP_MODEL_TEST_UTIL_H
#define SWIFTMLP_MODEL_TEST_UTIL_H

#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------ */

/* The whole file at path, in an exactly-sized malloc'd buffer (at least 1
 * byte is allocated so an empty file still gives a non-NULL pointer).
 * Fails the test if the file cannot be read. */
static inline unsigned char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        print_error("cannot open %s: %s\n", path, strerror(errno));
        fail();
    }
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
    assert_non_null(buf);
    if (size > 0) {
        assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static inline void write_whole_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        print_error("cannot create %s: %s\n", path, strerror(errno));
        fail();
    }
    if (len > 0) {
        assert_int_equal(fwrite(data, 1, len, f), len);
    }
    assert_int_equal(fclose(f), 0);
}

/* ---- a private temporary directory -------------------------------------- */

/* Creates a fresh directory under $TMPDIR (or /tmp) and writes its path to
 * dir (dir_cap bytes). The directory is world-searchable (0755) so that an
 * unprivileged child can reach paths inside it. */
static inline void make_temp_dir(char *dir, size_t dir_cap)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    int n = snprintf(dir, dir_cap, "%s/swiftmlp-test-XXXXXX", base);
    assert_true(n > 0 && (size_t)n < dir_cap);
    if (mkdtemp(dir) == NULL) {
        print_error("mkdtemp(%s): %s\n", dir, strerror(errno));
        fail();
    }
    assert_int_equal(chmod(dir, 0755), 0);
}

/* Removes dir and everything directly inside it (the tests create no
 * deeper trees; subdirectories one level down are emptied first). */
static inline void remove_temp_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                chmod(path, 0755);
                remove_temp_dir(path);
            } else {
                unlink(path);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/* main's end for tests in a temporary directory: runs the group of n tests,
 * then removes dir; returns the number of failed tests. */
static inline int run_tests_then_remove_dir(const char *group, const struct CMUnitTest *tests,
                                            size_t n, const char *dir)
{
    int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    remove_temp_dir(dir);
    return failed;
}
#define RUN_TESTS_THEN_REMOVE_DIR(tests, dir) \
    run_tests_then_remove_dir(#tests, (tests), ARRAY_LEN(tests), (dir))

/* The number of entries in dir whose name starts with prefix. */
static inline size_t count_entries_with_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0, plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, plen) == 0) {
            print_message("    leftover entry: %s/%s\n", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* ---- running a check in a child process --------------------------------- */

/* Exit codes a child uses besides a swiftmlp_status (0..14). */
enum {
    CHILD_EMPTY_LAST_ERROR = 100,  /* a failing call left last_error empty */
    CHILD_OUT_NOT_NULL = 101,      /* a failing load did not set *out to NULL */
    CHILD_CANNOT_DROP = 102,       /* setgid/setuid to nobody failed */
    CHILD_STILL_PRIVILEGED = 103,  /* still root after dropping */
    CHILD_WRONG_MESSAGE = 104      /* last_error does not name the problem */
};

/* In a child: restore the default action of the crash signals. cmocka
 * catches them to report a failing test and carries on with the next test,
 * which in a forked child would run the rest of the suite a second time;
 * with the defaults a crash kills the child and the parent reports it. */
static inline void child_reset_signals(void)
{
    const int sigs[] = {SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        signal(sigs[i], SIG_DFL);
    }
}

/* fork() after flushing stdio (so nothing buffered is written twice), with
 * the crash signals at their defaults in the child (child_reset_signals).
 * Returns the child's pid in the parent and 0 in the child. */
static inline pid_t fork_child(void)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_reset_signals();
    }
    return pid;
}

/* In a child: become user and group 65534 (nobody) if running as root, so
 * file permissions apply. Exits with CHILD_CANNOT_DROP on failure. */
static inline void child_drop_privileges(void)
{
    if (geteuid() != 0) {
        return;
    }
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
        _exit(CHILD_CANNOT_DROP);
    }
    if (geteuid() == 0 || getuid() == 0) {
        _exit(CHILD_STILL_PRIVILEGED);
    }
}

/* Waits for pid: its exit code, or -(signal number) if a signal killed it. */
static inline int wait_child(pid_t pid)
{
    int wstatus = 0;
    pid_t r;
    do {
        r = waitpid(pid, &wstatus, 0);
    } while (r < 0 && errno == EINTR);
    assert_int_equal(r, pid);
    if (WIFSIGNALED(wstatus)) {
        return -WTERMSIG(wstatus);
    }
    assert_true(WIFEXITED(wstatus));
    return WEXITSTATUS(wstatus);
}

/* Waits for pid; returns its exit code, failing the test if it did not exit
 * normally (a crash is reported with its signal). */
static inline int wait_child_exit_code(pid_t pid, const char *what)
{
    int code = wait_child(pid);
    if (code < 0) {
        print_error("%s: the child process was killed by signal %d (%s)\n", what, -code,
                    strsignal(-code));
        fail();
    }
    if (code == CHILD_CANNOT_DROP || code == CHILD_STILL_PRIVILEGED) {
        print_error("%s: could not drop root privileges in the child (code %d)\n", what, code);
        fail();
    }
    return code;
}

/* ---- comparing networks ---------------------------------------------------- */

static inline void assert_same_params_impl(const swiftmlp_net *a, const swiftmlp_net *b,
                                           const char *file, int line)
{
    snapshot sa = snapshot_params(a), sb = snapshot_params(b);
    if (sa.bytes != sb.bytes || memcmp(sa.data, sb.data, sa.bytes) != 0) {
        print_error("parameters differ (%zu vs %zu bytes)\n", sa.bytes, sb.bytes);
        _fail(file, line);
    }
    snapshot_free(&sa);
    snapshot_free(&sb);
}
#define assert_same_params(a, b) assert_same_params_impl((a), (b), __FILE__, __LINE__)

/* Every parameter of net is finite. */
static inline int params_all_finite(const swiftmlp_net *net)
{
    snapshot s = snapshot_params(net);
    swiftmlp_dtype dtype;
    assert_ok(swiftmlp_get_dtype(net, &dtype));
    int ok = 1;
    if (dtype == SWIFTMLP_FLOAT32) {
        const float *p = s.data;
        for (size_t i = 0; i < s.bytes / sizeof(float); i++) {
            ok &= isfinite(p[i]) != 0;
        }
    } else {
        const double *p = s.data;
        for (size_t i = 0; i < s.bytes / sizeof(double); i++) {
            ok &= isfinite(p[i]) != 0;
        }
    }
    snapshot_free(&s);
    return ok;
}

/* last_error contains needle (it must be set). */
static inline void assert_last_error_contains_impl(const char *needle, const char *file, int line)
{
    const char *msg = swiftmlp_last_error();
    if (msg == NULL || strstr(msg, needle) == NULL) {
        print_error("last_error \"%s\" does not contain \"%s\"\n", msg ? msg : "(null)", needle);
        _fail(file, line);
    }
}
#define assert_last_error_contains(needle) \
    assert_last_error_contains_impl((needle), __FILE__, __LINE__)

#endif /* SWIFTMLP_MODEL_TEST_UTIL_H */

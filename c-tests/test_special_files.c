/*
 * test_special_files.c — swiftmlp_load_file never blocks and never reads
 * anything but a regular file (include/swiftmlp.h, swiftmlp_load_file).
 *
 * It used to open the path before checking what it was: on a FIFO without a
 * writer the open blocked forever. Now the open does not wait (O_NONBLOCK),
 * the type is checked on the descriptor before any read, and a file whose
 * length differs from its size at open (a /proc file) is refused. Each kind
 * gets SWIFTMLP_ERR_IO with a message saying what the path is, *out NULL,
 * and returns at once (an alarm turns a hang into a failure).
 */
#define _GNU_SOURCE
#include "model_test_util.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

static char g_dir[1024];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* load_file(path) must give IO naming `what`, quickly, with *out NULL. */
static void check_refused(const char *path, const char *what)
{
    swiftmlp_net *out = NOT_NULL_SENTINEL;
    alarm(10); /* a hang kills the test (SIGALRM) instead of blocking CI */
    double t0 = now();
    swiftmlp_status s = swiftmlp_load_file(path, &out);
    double dt = now() - t0;
    alarm(0);
    if (s != SWIFTMLP_ERR_IO || strstr(swiftmlp_last_error(), what) == NULL) {
        print_error("load_file(%s) returned %d (%s) \"%s\"; expected SWIFTMLP_ERR_IO mentioning \"%s\"\n",
                    path, (int)s, swiftmlp_status_string(s), swiftmlp_last_error(), what);
        fail();
    }
    assert_null(out);
    assert_true(dt < 2.0);
}

static void path_in_dir(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", g_dir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static void test_fifo_without_writer(void **state)
{
    (void)state;
    char path[1200];
    path_in_dir(path, sizeof path, "fifo-no-writer");
    assert_int_equal(mkfifo(path, 0600), 0);
    check_refused(path, "FIFO");
    unlink(path);
}

static void test_fifo_with_writer_is_not_read(void **state)
{
    (void)state;
    char path[1200];
    path_in_dir(path, sizeof path, "fifo-writer");
    assert_int_equal(mkfifo(path, 0600), 0);
    int fd = open(path, O_RDWR | O_NONBLOCK); /* reader and writer, never blocks */
    assert_true(fd >= 0);
    const char data[] = "not a model, and not to be consumed";
    assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
    check_refused(path, "FIFO");
    /* the library read nothing: every byte is still in the pipe */
    char back[sizeof data];
    assert_int_equal(read(fd, back, sizeof back), (ssize_t)sizeof back);
    assert_memory_equal(back, data, sizeof data);
    close(fd);
    unlink(path);
}

/* Paths of the system refused for what they are: {path, what}. */
static const struct {
    const char *path, *what;
} k_system_paths[] = {
    {"/dev/zero", "character device"},
    {"/dev/null", "character device"},
    {"/dev/urandom", "character device"},
    {"/", "directory"},
    /* st_size 0, but they have contents: longer than fstat said */
    {"/proc/self/status", "longer than"},
    {"/proc/self/maps", "longer than"},
    {"/proc/self/fd", "directory"},
};

static void test_character_devices_directories_and_proc_files(void **state)
{
    (void)state;
    check_refused(g_dir, "directory");
    for (size_t i = 0; i < ARRAY_LEN(k_system_paths); i++) {
        check_refused(k_system_paths[i].path, k_system_paths[i].what);
    }
}

static void test_socket(void **state)
{
    (void)state;
    char path[1200];
    path_in_dir(path, sizeof path, "sock");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof addr.sun_path);
    strcpy(addr.sun_path, path);
    assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(s, 1), 0);
    check_refused(path, "socket");
    close(s);
    unlink(path);
}

static void test_symlink_loops(void **state)
{
    (void)state;
    char a[1200], b[1200], self[1200];
    path_in_dir(a, sizeof a, "loop-a");
    path_in_dir(b, sizeof b, "loop-b");
    path_in_dir(self, sizeof self, "loop-self");
    assert_int_equal(symlink(b, a), 0);
    assert_int_equal(symlink(a, b), 0);
    assert_int_equal(symlink(self, self), 0);
    check_refused(a, "symbolic link");
    check_refused(self, "symbolic link");
    unlink(a);
    unlink(b);
    unlink(self);
}

static void test_regular_file_and_link_to_it_still_load(void **state)
{
    (void)state;
    swiftmlp_net *net = small_net(5);
    char path[1200], link[1200];
    path_in_dir(path, sizeof path, "model.safetensors");
    path_in_dir(link, sizeof link, "link.safetensors");
    assert_ok(swiftmlp_save_file(net, 0, path));
    assert_int_equal(symlink(path, link), 0);
    swiftmlp_net *a = NULL, *b = NULL;
    assert_ok(swiftmlp_load_file(path, &a));
    assert_ok(swiftmlp_load_file(link, &b));
    assert_same_params(a, net);
    assert_same_params(b, net);
    swiftmlp_free(a);
    swiftmlp_free(b);
    swiftmlp_free(net);
    unlink(link);
    unlink(path);
}

int main(void)
{
    make_temp_dir(g_dir, sizeof g_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_without_writer),
        cmocka_unit_test(test_fifo_with_writer_is_not_read),
        cmocka_unit_test(test_character_devices_directories_and_proc_files),
        cmocka_unit_test(test_socket),
        cmocka_unit_test(test_symlink_loops),
        cmocka_unit_test(test_regular_file_and_link_to_it_still_load),
    };
    return RUN_TESTS_THEN_REMOVE_DIR(tests, g_dir);
}

/*
 * libccheck-probe: the program libccheck injects into each container as its entrypoint.
 * Built fully static (no libc needed in the image), so it works on musl, slim and shell-less
 * distroless images alike.
 *
 * Runs a list of jobs one after another, each in its own process group, with a time limit and
 * capped capture of stdout/stderr, and reports how each ended. Since the probe is the parent of
 * every job, a job that dies of a signal is seen as such (no PID-1 signal rules apply to it).
 *
 * Usage: probe TIMEOUT_MS CAP_BYTES JOB...
 *   JOB = NAME NENV ENV... NARGS PATH ARG...     (NARGS counts PATH and every ARG)
 *   PATH "@read" with one ARG reports that file's content as the job's stdout, running nothing
 *   (how os-release is read in images without cat or a shell).
 * Or: probe TIMEOUT_MS CAP_BYTES @jobs FILE — the same job words, NUL-separated, read from FILE
 *   (for hundreds of jobs, beyond what a command line holds).
 * Option words may come before the first job:
 *   -jN        run the jobs in N worker processes (each reports into its own anonymous memory
 *              file, copied to stdout at the end), for audits of many files; nothing depends on the
 *              image's /tmp;
 *   -uUID:GID  run every job as UID:GID (the probe itself runs as root with only CAP_SETUID,
 *              CAP_SETGID and CAP_KILL, so the program under test cannot reach the probe's report
 *              channel: another uid, and the probe is not dumpable);
 *   -kFILE     read the report key from FILE and delete it before any job runs; every report line
 *              that opens a job carries it, so a block written by anyone else is refused;
 *   -e         read the report key from the environment (LIBCCHECK_PROBE_KEY) and remove it before
 *              any job runs, for files mounted read-only where a key file could not be deleted (the
 *              jobs' user cannot read the environment of PID 1 or of the probe: another uid).
 *
 * Output (stdout), per job:
 *   LIBCCHECK-PROBE v1 key=K name=N errno=E exited=0|1 code=C signal=S timed_out=0|1 out_total=B err_total=B ms=T oom=0|1
 *   (oom: the kernel killed a process of the container for want of memory while the job ran)
 *   OUT <hex of the first CAP_BYTES of stdout, wrapped>
 *   ERR <hex of the first CAP_BYTES of stderr, wrapped>
 *   END
 * Hex keeps the report intact through Docker's log drivers, whatever bytes the job printed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The report key (empty when none was given) and the user the jobs run as (-1: the probe's own). */
static char key[130];
static long job_uid = -1, job_gid = -1;
/* Jobs run one after another (no -j workers): every process of the jobs' user is a leftover once a
 * job is over, a daemon that left the job's process group (setsid) included. */
static int one_at_a_time = 1;

/* Kill every process of the jobs' user, when jobs run one at a time under a user of their own. */
static void end_leftovers(void) {
    if (job_uid < 0 || !one_at_a_time) return;
    for (int round = 0; round < 3; round++) {
        DIR *d = opendir("/proc");
        if (!d) return;
        int found = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            long p = strtol(e->d_name, &end, 10);
            if (*end || p <= 1 || p == getpid()) continue;
            char path[64], line[128];
            snprintf(path, sizeof path, "/proc/%ld/status", p);
            FILE *f = fopen(path, "re");
            if (!f) continue;
            long uid = -1;
            while (fgets(line, sizeof line, f))
                if (sscanf(line, "Uid: %ld", &uid) == 1) break;
            fclose(f);
            if (uid == job_uid && kill((pid_t)p, SIGKILL) == 0) found = 1;
        }
        closedir(d);
        if (!found) return;
        usleep(2000);
    }
}

static void header(const char *name, int e, int exited, int code, int sig, int timed_out,
                   unsigned long long out_total, unsigned long long err_total, long long ms, int oom) {
    printf("LIBCCHECK-PROBE v1 key=%s name=%s errno=%d exited=%d code=%d signal=%d timed_out=%d "
           "out_total=%llu err_total=%llu ms=%lld oom=%d\n",
           key, name, e, exited, code, sig, timed_out, out_total, err_total, ms, oom);
}

/* The container's count of processes the kernel killed for want of memory (cgroup v2, then v1);
 * -1 when neither file is readable. */
static long oom_kills(void) {
    const char *files[] = {"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "re");
        if (!f) continue;
        char line[128];
        long n = -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "oom_kill %ld", &n) == 1) break;
        fclose(f);
        if (n >= 0) return n;
    }
    return -1;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hexdump(const char *tag, const unsigned char *buf, size_t n) {
    static const char hx[] = "0123456789abcdef";
    char line[4096 + 8];
    size_t i = 0;
    do {
        size_t k = 0;
        memcpy(line, tag, 4);
        k = 4;
        while (i < n && k < 4096) {
            line[k++] = hx[buf[i] >> 4];
            line[k++] = hx[buf[i] & 15];
            i++;
        }
        line[k++] = '\n';
        fwrite(line, 1, k, stdout);
    } while (i < n);
}

struct cap {
    unsigned char *buf;
    size_t len, cap;
    unsigned long long total;
};

static int drain(int fd, struct cap *c) {
    unsigned char tmp[65536];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r <= 0) return r == 0 || (errno != EINTR && errno != EAGAIN) ? 0 : 1;
    c->total += (unsigned long long)r;
    size_t room = c->cap - c->len;
    size_t take = (size_t)r < room ? (size_t)r : room;
    memcpy(c->buf + c->len, tmp, take);
    c->len += take;
    return 1;
}

static void read_job(const char *name, const char *path, size_t capsz) {
    struct cap c = {malloc(capsz ? capsz : 1), 0, capsz, 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) {
        while (drain(fd, &c) && c.total < capsz) {
        }
        close(fd);
    }
    header(name, e, e ? 0 : 1, e ? -1 : 0, 0, 0, c.total, 0, 0, 0);
    hexdump("OUT ", c.buf, c.len);
    hexdump("ERR ", c.buf, 0);
    puts("END");
    free(c.buf);
}

static int run_job(const char *name, char **env, int nenv, char **argv, long timeout_ms, size_t capsz) {
    if (strcmp(argv[0], "@read") == 0 && argv[1]) {
        read_job(name, argv[1], capsz);
        return 0;
    }
    int out[2], err[2], st[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
        perror("probe: pipe");
        return -1;
    }
    /* environment: ours plus the job's */
    int base = 0;
    while (environ[base]) base++;
    char **envp = calloc((size_t)(base + nenv + 1), sizeof *envp);
    for (int i = 0; i < base; i++) envp[i] = environ[i];
    for (int i = 0; i < nenv; i++) envp[base + i] = env[i];

    long oom_before = oom_kills();
    long long start = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("probe: fork");
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        int e = 0;
        if (job_uid >= 0 && (setgroups(0, NULL) || setgid((gid_t)job_gid) || setuid((uid_t)job_uid)))
            e = errno;
        else {
            execve(argv[0], argv, envp);
            e = errno;
        }
        if (write(st[1], &e, sizeof e) < 0) _exit(126);
        _exit(127);
    }
    setpgid(pid, pid);
    close(out[1]);
    close(err[1]);
    close(st[1]);
    int exec_errno = 0;
    if (read(st[0], &exec_errno, sizeof exec_errno) != sizeof exec_errno) exec_errno = 0;
    close(st[0]);

    struct cap co = {malloc(capsz ? capsz : 1), 0, capsz, 0}, ce = {malloc(capsz ? capsz : 1), 0, capsz, 0};
    struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2, timed_out = 0, status = 0, reaped = 0;
    long long deadline = start + timeout_ms;
    while (!reaped) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (open_fds > 0) {
            int n = poll(p, 2, left > 50 ? 50 : (int)left);
            if (n < 0 && errno != EINTR) break;
            for (int i = 0; i < 2; i++) {
                if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                    if (!drain(p[i].fd, i == 0 ? &co : &ce)) {
                        close(p[i].fd);
                        p[i].fd = -1;
                        open_fds--;
                    }
                }
            }
        } else {
            usleep(5000);
        }
        if (waitpid(pid, &status, WNOHANG) == pid) reaped = 1;
    }
    if (!reaped) {
        /* Kill the whole process group, again and again: a fork bomb keeps making new members. */
        for (int i = 0; i < 50; i++) {
            kill(-pid, SIGKILL);
            if (waitpid(pid, &status, WNOHANG) == pid) {
                reaped = 1;
                break;
            }
            usleep(2000);
        }
        if (!reaped) waitpid(pid, &status, 0);
        kill(-pid, SIGKILL);
    } else {
        /* The job is over, and so is what it left behind: a child that writes on must not hold the
         * probe, nor outlive the job into the next one. Then what is left in the pipes, briefly. */
        kill(-pid, SIGKILL);
        end_leftovers();
        long long until = now_ms() + 200;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0) continue;
            fcntl(p[i].fd, F_SETFL, O_NONBLOCK);
            while (now_ms() < until && drain(p[i].fd, i == 0 ? &co : &ce)) {
                struct pollfd q = {p[i].fd, POLLIN, 0};
                if (poll(&q, 1, 20) <= 0) break;
            }
        }
    }
    if (timed_out) end_leftovers();
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0) close(p[i].fd);
    long long ms = now_ms() - start;

    int exited = WIFEXITED(status) && !exec_errno && !timed_out;
    int sig = WIFSIGNALED(status) && !timed_out ? WTERMSIG(status) : 0;
    long oom_after = oom_kills();
    int oom = oom_before >= 0 && oom_after > oom_before;
    header(name, exec_errno, exited, exited ? WEXITSTATUS(status) : -1, sig, timed_out, co.total, ce.total, ms, oom);
    hexdump("OUT ", co.buf, co.len);
    hexdump("ERR ", ce.buf, ce.len);
    puts("END");
    fflush(stdout);
    free(co.buf);
    free(ce.buf);
    free(envp);
    return 0;
}

/* Read the report key and remove its file, so that no job can read it after us. */
static int read_key(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, key, sizeof key - 1);
    if (fd >= 0) close(fd);
    if (n <= 0 || unlink(path)) {
        perror("probe: report key");
        return 1;
    }
    key[n] = 0;
    key[strcspn(key, " \n")] = 0;
    return 0;
}

/* Take the report key from the environment, so that no job inherits it. */
static int key_from_env(void) {
    char *k = getenv("LIBCCHECK_PROBE_KEY");
    if (!k || !*k || strlen(k) >= sizeof key) {
        fprintf(stderr, "probe: report key: LIBCCHECK_PROBE_KEY is %s\n", k && *k ? "too long" : "not set");
        return 1;
    }
    snprintf(key, sizeof key, "%s", k);
    /* Also wipe the value where it lies (the initial environment that /proc/<us>/environ shows). */
    memset(k, 'x', strlen(k));
    return unsetenv("LIBCCHECK_PROBE_KEY");
}

/* A worker's report goes to an anonymous memory file: the image's /tmp may be missing, read-only
 * or not writable by us. */
static int worker_report_file(void) {
    int fd = memfd_create("libccheck-probe", MFD_CLOEXEC);
    if (fd < 0) perror("probe: memfd_create");
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: probe TIMEOUT_MS CAP_BYTES JOB...\n");
        return 2;
    }
    /* Not dumpable: a job running as our uid (--as-root) still cannot open /proc/<us>/fd/1. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    long timeout_ms = atol(argv[1]);
    size_t capsz = (size_t)atol(argv[2]);
    if (argc == 5 && strcmp(argv[3], "@jobs") == 0) {
        /* Re-enter with the words of the file as the argument vector. */
        int fd = open(argv[4], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror("probe: job file");
            return 2;
        }
        size_t cap = 1 << 16, len = 0;
        char *buf = malloc(cap);
        ssize_t r;
        while ((r = read(fd, buf + len, cap - len)) > 0) {
            len += (size_t)r;
            if (len == cap) buf = realloc(buf, cap *= 2);
        }
        close(fd);
        int n = 3;
        for (size_t k = 0; k < len; k++)
            if (buf[k] == 0) n++;
        char **nargv = calloc((size_t)n + 1, sizeof *nargv);
        nargv[0] = argv[0];
        nargv[1] = argv[1];
        nargv[2] = argv[2];
        int m = 3;
        for (size_t k = 0; k < len;) {
            nargv[m++] = buf + k;
            k += strlen(buf + k) + 1;
        }
        argc = m;
        argv = nargv;
    }
    int workers = 1;
    int i = 3;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (argv[i][1] == 'j') {
            workers = atoi(argv[i] + 2);
            if (workers < 1) workers = 1;
            if (workers > 64) workers = 64;
        } else if (argv[i][1] == 'u') {
            if (sscanf(argv[i] + 2, "%ld:%ld", &job_uid, &job_gid) != 2 || job_uid < 0 || job_gid < 0) {
                fprintf(stderr, "probe: bad option %s\n", argv[i]);
                return 2;
            }
        } else if (argv[i][1] == 'k') {
            if (read_key(argv[i] + 2)) return 2;
        } else if (argv[i][1] == 'e') {
            if (key_from_env()) return 2;
        } else {
            fprintf(stderr, "probe: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (job_uid >= 0 && geteuid() != 0 && (uid_t)job_uid != geteuid()) {
        fprintf(stderr, "probe: -u needs the probe to run as root\n");
        return 2;
    }
    struct job {
        const char *name;
        char **env;
        int nenv;
        char **args;
    } *jobs = calloc((size_t)argc, sizeof *jobs);
    int njobs = 0;
    while (i < argc) {
        const char *name = argv[i++];
        if (i >= argc) break;
        int nenv = atoi(argv[i++]);
        if (nenv < 0 || i + nenv >= argc) break;
        char **env = &argv[i];
        i += nenv;
        int nargs = atoi(argv[i++]);
        if (nargs < 1 || i + nargs > argc) break;
        char **args = calloc((size_t)nargs + 1, sizeof *args);
        for (int k = 0; k < nargs; k++) args[k] = argv[i + k];
        i += nargs;
        jobs[njobs++] = (struct job){name, env, nenv, args};
    }
    if (i != argc) {
        fprintf(stderr, "probe: malformed job list\n");
        return 2;
    }
    one_at_a_time = workers == 1 || njobs < 2;
    if (one_at_a_time) {
        for (int k = 0; k < njobs; k++) run_job(jobs[k].name, jobs[k].env, jobs[k].nenv, jobs[k].args, timeout_ms, capsz);
        return 0;
    }
    pid_t pids[64];
    int reports[64];
    for (int w = 0; w < workers; w++) {
        reports[w] = worker_report_file();
        if (reports[w] < 0) return 2;
        fflush(stdout);
        pids[w] = fork();
        if (pids[w] < 0) {
            perror("probe: fork");
            return 2;
        }
        if (pids[w] == 0) {
            if (dup2(reports[w], 1) < 0) _exit(3);
            for (int k = w; k < njobs; k += workers) run_job(jobs[k].name, jobs[k].env, jobs[k].nenv, jobs[k].args, timeout_ms, capsz);
            fflush(stdout);
            _exit(0);
        }
    }
    int failed = 0;
    for (int w = 0; w < workers; w++) {
        int st = 0;
        waitpid(pids[w], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failed = 1;
        char buf[65536];
        ssize_t n;
        fflush(stdout);
        lseek(reports[w], 0, SEEK_SET);
        while ((n = read(reports[w], buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
        close(reports[w]);
    }
    fflush(stdout);
    if (failed) {
        fprintf(stderr, "probe: a worker failed\n");
        return 2;
    }
    return 0;
}

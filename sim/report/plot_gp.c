/* sim/report/plot_gp.c: gnuplot discovery and invocation (see plot_gp.h). */
#include "sim/report/plot_gp.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/util.h"

/* Run gnuplot with argv (NULL-terminated, without the program name); its stdout and,
 * when quiet_stderr, its stderr go to /dev/null. Returns the exit status, 127 when it
 * cannot be run, -1 with err when fork/wait fail. */
static int run_gnuplot(char *const *args, int quiet_stderr, char *err, size_t errlen) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "%s:%d: fork: %s", __FILE__, __LINE__, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            if (quiet_stderr) dup2(null, STDERR_FILENO);
            close(null);
        }
        size_t n = 0;
        while (args[n]) n++;
        char **argv = calloc(n + 2, sizeof *argv);
        if (!argv) _exit(127);
        argv[0] = "gnuplot";
        for (size_t i = 0; i < n; i++) argv[i + 1] = args[i];
        execvp("gnuplot", argv);
        free(argv);
        _exit(127);
    }
    int status;
    pid_t r;
    do r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        snprintf(err, errlen, "%s:%d: waitpid: %s", __FILE__, __LINE__, strerror(errno));
        return -1;
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int gp_available(void) {
    char err[256];
    char *args[] = {"-e", "exit", NULL};
    return run_gnuplot(args, 1, err, sizeof err) == 0;
}

static int has_term(const char *term) {
    char cmd[64], err[256];
    snprintf(cmd, sizeof cmd, "set terminal %s", term);
    char *args[] = {"-e", cmd, NULL};
    return run_gnuplot(args, 1, err, sizeof err) == 0;
}

static int is_scripts_dir(const char *dir) {
    char p[1100];
    snprintf(p, sizeof p, "%s/common.gp", dir);
    return access(p, R_OK) == 0;
}

int gp_init(gp_env *e, const char *override, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    const char *env = getenv("ORIONSIM_PLOTS");
    const char *cand[3] = {override, override ? NULL : env, override ? NULL : "plots"};
    for (int i = 0; i < 3 && !e->scripts[0]; i++)
        if (cand[i] && is_scripts_dir(cand[i]))
            snprintf(e->scripts, sizeof e->scripts, "%s", cand[i]);
    if (!e->scripts[0] && !override) {
        char exe[900];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            for (int up = 0; up < 2; up++) {
                char *slash = strrchr(exe, '/');
                if (!slash) break;
                *slash = 0;
                char d[1024];
                snprintf(d, sizeof d, "%s/plots", exe);
                if (is_scripts_dir(d)) {
                    snprintf(e->scripts, sizeof e->scripts, "%s", d);
                    break;
                }
            }
        }
    }
    if (!e->scripts[0]) {
        snprintf(err, errlen,
                 override ? "--scripts %s: no common.gp there"
                          : "cannot find the gnuplot scripts (plots/common.gp); run from the "
                            "source tree, set ORIONSIM_PLOTS or pass --scripts DIR%s",
                 override ? override : "");
        return -1;
    }
    if (!gp_available()) {
        snprintf(err, errlen,
                 "cannot run gnuplot: install it (Debian: apt-get install gnuplot-nox)");
        return -1;
    }
    snprintf(e->pngterm, sizeof e->pngterm, "%s", has_term("pngcairo") ? "pngcairo" : "png");
    if (strcmp(e->pngterm, "pngcairo") && !has_term("png")) {
        snprintf(err, errlen, "gnuplot has neither the pngcairo nor the png terminal");
        return -1;
    }
    e->svg = has_term("svg");
    return 0;
}

char *gp_quote(const char *s) {
    size_t n = 3;
    for (const char *p = s; *p; p++) n += *p == '\'' ? 2 : 1;
    char *q = xmalloc(n);
    size_t at = 0;
    q[at++] = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') q[at++] = '\'';
        q[at++] = *p;
    }
    q[at++] = '\'';
    q[at] = 0;
    return q;
}

static void push(gp_vars *vs, char *stmt) {
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? 2 * vs->cap : 16;
        vs->v = xrealloc(vs->v, vs->cap * sizeof *vs->v);
    }
    vs->v[vs->n++] = stmt;
}

void gp_var_raw(gp_vars *vs, const char *name, const char *expr) {
    size_t n = strlen(name) + strlen(expr) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s=%s", name, expr);
    push(vs, s);
}

void gp_var_str(gp_vars *vs, const char *name, const char *value) {
    char *q = gp_quote(value);
    gp_var_raw(vs, name, q);
    free(q);
}

void gp_var_num(gp_vars *vs, const char *name, double value) {
    char buf[64];
    if (isnan(value) || isinf(value)) snprintf(buf, sizeof buf, "NaN");
    else snprintf(buf, sizeof buf, "%.17g", value);
    /* gnuplot reads "3" as an integer: integer division would bite in scripts */
    if (!strpbrk(buf, ".eEN")) strcat(buf, ".0");
    gp_var_raw(vs, name, buf);
}

void gp_vars_free(gp_vars *vs) {
    for (size_t i = 0; i < vs->n; i++) free(vs->v[i]);
    free(vs->v);
    memset(vs, 0, sizeof *vs);
}

static char *join_vars(const gp_vars *vs, const char *fmt, const char *out, const gp_env *e) {
    gp_vars all = {0};
    gp_var_str(&all, "fmt", fmt);
    gp_var_str(&all, "out", out);
    gp_var_str(&all, "scriptdir", e->scripts);
    gp_var_str(&all, "pngterm", e->pngterm);
    size_t n = 1;
    for (size_t i = 0; i < all.n; i++) n += strlen(all.v[i]) + 2;
    for (size_t i = 0; i < vs->n; i++) n += strlen(vs->v[i]) + 2;
    char *s = xmalloc(n);
    size_t at = 0;
    s[0] = 0;
    for (size_t i = 0; i < all.n; i++) at += (size_t)snprintf(s + at, n - at, "%s; ", all.v[i]);
    for (size_t i = 0; i < vs->n; i++) at += (size_t)snprintf(s + at, n - at, "%s; ", vs->v[i]);
    gp_vars_free(&all);
    return s;
}

int gp_render(const gp_env *e, const char *script, const char *outstem, const gp_vars *vs,
              char *err, size_t errlen) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.gp", e->scripts, script);
    if (access(path, R_OK)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    static const char *const fmts[] = {"png", "svg"};
    for (int f = 0; f < (e->svg ? 2 : 1); f++) {
        size_t ol = strlen(outstem) + 8;
        char *out = xmalloc(ol);
        snprintf(out, ol, "%s.%s", outstem, fmts[f]);
        char *vars = join_vars(vs, fmts[f], out, e);
        char *args[] = {"-e", vars, path, NULL};
        int rc = run_gnuplot(args, 0, err, errlen);
        free(vars);
        if (rc) {
            if (rc > 0)
                snprintf(err, errlen, "gnuplot %s failed (exit status %d) making %s", path, rc,
                         out);
            free(out);
            return -1;
        }
        struct stat st;
        if (stat(out, &st) || st.st_size == 0) {
            snprintf(err, errlen, "gnuplot %s did not write %s", path, out);
            free(out);
            return -1;
        }
        free(out);
    }
    return 0;
}

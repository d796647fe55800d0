/* The batched L-BFGS of analyses/laws/lbfgs.py, compiled, for one objective: the Huber loss of
 * log residuals of a log-sum-exp form (analyses/laws/objectives.py, HuberLog).
 *
 * Each row (a law and a start) runs the iteration of lbfgs._run on its own: the same
 * direction, line search, expansion, history update, restarts and stopping tests, row by
 * row instead of in arrays. The objective sums only a law's own points (offsets into flat
 * point arrays), so a row's result does not depend on the other laws of its batch.
 *
 * exp and log are declared SIMD-callable, so that gcc vectorises the point loops with glibc's
 * vector math (libmvec) without -ffast-math; -ffast-math would also assume no infinities,
 * which the line search relies on to reject overflowing steps. Elsewhere (clang, other
 * libcs, other CPUs) the same code compiles to scalar calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
__attribute__((simd("notinbranch"))) double exp(double);
__attribute__((simd("notinbranch"))) double log(double);
/* One build runs everywhere; the widest vectors the CPU has are picked at load time. */
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

enum { RUNNING = -1, CONVERGED = 0, MAX_ITER = 1, NAN_OBJECTIVE = 2, LINE_SEARCH = 3 };
#define MAX_P 32 /* parameters */
#define MAX_T 8  /* log-sum-exp terms */

typedef struct {
    int p, T;
    const double *Mi, *ci, *Ms, *cs; /* (p, T), (T), (p, T), (T) */
    const int64_t *feature;          /* (T), -1 for a constant term */
    const double *F;                 /* (n_inputs, n_total): log inputs of all laws' points */
    const double *logy;              /* (n_total) */
    int64_t n_total;
    double delta;
} Problem;

typedef struct {
    int64_t max_iter, m, max_ls, patience, expand;
    double ftol, gtol, xtol, c1;
} Options;

/* Sums over one law's points [off, off + n) for NT input terms, in one pass: the objective,
 * and the gradient's pieces: ga[t] = sum w u_t, gb[t] = sum w u_t F_t and csum = sum w, with
 * w = d f / d s. One function per NT (scalar accumulators vectorise; arrays of them do not). */
#define SUMS(NT)                                                                              \
    CLONES static double sums##NT(const Problem *P, int64_t off, int64_t n,                    \
                                  const double *const *Fq, const double *a, const double *b,    \
                                  double cst, double *ga, double *gb, double *csum) {           \
        const double delta = P->delta, *logy = P->logy + off;                                  \
        const double *F0 = Fq[0], *F1 = Fq[NT - 1];                                            \
        const double a0 = a[0], b0 = b[0], a1 = a[NT - 1], b1 = b[NT - 1];                     \
        double f = 0.0, c0 = 0.0, A0 = 0.0, B0 = 0.0, A1 = 0.0, B1 = 0.0;                      \
        _Pragma("omp simd reduction(+ : f, c0, A0, B0, A1, B1)")                               \
        for (int64_t i = 0; i < n; i++) {                                                      \
            const double u0 = exp(a0 - b0 * F0[i]);                                            \
            const double u1 = NT > 1 ? exp(a1 - b1 * F1[i]) : 0.0;                             \
            const double s = cst + u0 + u1;                                                    \
            const double r = log(s) - logy[i];                                                 \
            const double c = r < -delta ? -delta : (r > delta ? delta : r);                   \
            f += c * (r - 0.5 * c);                                                            \
            const double w = c / s;                                                            \
            c0 += w;                                                                           \
            A0 += w * u0;                                                                      \
            B0 += w * u0 * F0[i];                                                              \
            A1 += w * u1;                                                                      \
            B1 += w * u1 * F1[i];                                                              \
        }                                                                                      \
        ga[0] = A0;                                                                            \
        gb[0] = B0;                                                                            \
        ga[NT - 1] = NT > 1 ? A1 : A0;                                                         \
        gb[NT - 1] = NT > 1 ? B1 : B0;                                                         \
        *csum = c0;                                                                            \
        return f;                                                                              \
    }
SUMS(1)
SUMS(2)

/* Huber objective of one law's points [off, off + n) at theta, and its gradient g. */
static double objective(const Problem *P, int64_t off, int64_t n, const double *theta,
                        double *g) {
    const int p = P->p, T = P->T;
    double I[MAX_T], S[MAX_T], a[MAX_T], b[MAX_T], ga[MAX_T], gb[MAX_T], cst = 0.0, csum;
    const double *Fq[MAX_T];
    int nt = 0;
    for (int j = 0; j < T; j++) {
        I[j] = P->ci[j];
        S[j] = P->cs[j];
        for (int k = 0; k < p; k++) {
            I[j] += theta[k] * P->Mi[k * T + j];
            S[j] += theta[k] * P->Ms[k * T + j];
        }
        if (P->feature[j] < 0) {
            cst += exp(I[j]);
        } else {
            a[nt] = I[j];
            b[nt] = S[j];
            Fq[nt++] = P->F + P->feature[j] * P->n_total + off;
        }
    }
    const double f = nt == 1 ? sums1(P, off, n, Fq, a, b, cst, ga, gb, &csum)
                             : sums2(P, off, n, Fq, a, b, cst, ga, gb, &csum);
    double gI[MAX_T], gS[MAX_T];
    for (int j = 0, t = 0; j < T; j++) {
        if (P->feature[j] < 0) {
            gI[j] = exp(I[j]) * csum;
            gS[j] = 0.0;
        } else {
            gI[j] = ga[t];
            gS[j] = -gb[t++];
        }
    }
    for (int k = 0; k < p; k++) {
        double v = 0.0;
        for (int j = 0; j < T; j++) v += gI[j] * P->Mi[k * T + j] + gS[j] * P->Ms[k * T + j];
        g[k] = v;
    }
    return f;
}

static double dot(const double *a, const double *b, int p) {
    double v = 0.0;
    for (int k = 0; k < p; k++) v += a[k] * b[k];
    return v;
}

static int all_finite(double f, const double *g, int p) {
    if (!isfinite(f)) return 0;
    for (int k = 0; k < p; k++)
        if (!isfinite(g[k])) return 0;
    return 1;
}

/* x + t d, clipped to [lo, hi] */
static void trial(const double *x, double t, const double *d, const double *lo, const double *hi,
                  int p, double *out) {
    for (int k = 0; k < p; k++) out[k] = fmin(fmax(x[k] + t * d[k], lo[k]), hi[k]);
}

/* One row: x (p) in/out, f and g out; returns the status. hist holds 2 m p + m doubles. */
static int run_row(const Problem *P, const Options *o, int64_t off, int64_t n, double *x,
                   double *fout, double *g, const double *lo, const double *hi,
                   int64_t *n_iter, int64_t *n_eval, double *hist) {
    const int p = P->p;
    const int64_t m = o->m;
    double *Sh = hist, *Yh = hist + m * p, *rho = hist + 2 * m * p;
    double pg[MAX_P], d[MAX_P], q[MAX_P], al[64], xt[MAX_P], gt[MAX_P], xn[MAX_P], gn[MAX_P];
    int held[MAX_P];
    for (int k = 0; k < p; k++) x[k] = fmin(fmax(x[k], lo[k]), hi[k]);
    double f = objective(P, off, n, x, g);
    int64_t ne = 1, it = 0, nh = 0, newest = -1, calm = 0;
    double gamma = 1.0;
    int st = RUNNING;
    if (!all_finite(f, g, p)) st = NAN_OBJECTIVE;
    else if (o->max_iter <= 0) st = MAX_ITER;
    while (st == RUNNING) {
        double gmax = 0.0;
        for (int k = 0; k < p; k++) {
            held[k] = (x[k] <= lo[k] && g[k] > 0) || (x[k] >= hi[k] && g[k] < 0);
            pg[k] = held[k] ? 0.0 : g[k];
            gmax = fmax(gmax, fabs(pg[k]));
        }
        const int small_g = gmax <= o->gtol;
        if (small_g) st = CONVERGED;
        /* two-loop recursion over the nh newest pairs (slot newest - j, ring of m) */
        memcpy(q, pg, sizeof(double) * p);
        for (int64_t j = 0; j < nh; j++) {
            const int64_t s = newest - j + (newest < j ? m : 0);
            al[j] = rho[s] * dot(Sh + s * p, q, p);
            for (int k = 0; k < p; k++) q[k] -= al[j] * Yh[s * p + k];
        }
        const double gam = nh > 0 ? gamma : 1.0;
        for (int k = 0; k < p; k++) q[k] *= gam;
        for (int64_t j = nh - 1; j >= 0; j--) {
            const int64_t s = newest - j + (newest < j ? m : 0);
            const double c = al[j] - rho[s] * dot(Yh + s * p, q, p);
            for (int k = 0; k < p; k++) q[k] += c * Sh[s * p + k];
        }
        for (int k = 0; k < p; k++) d[k] = held[k] ? 0.0 : -q[k];
        double gd = dot(g, d, p);
        if (!(gd < 0) || !isfinite(gd)) { /* not a descent direction: go downhill */
            nh = 0;
            for (int k = 0; k < p; k++) d[k] = -pg[k];
            gd = -dot(pg, pg, p);
        }
        double t = nh > 0 ? 1.0 : fmin(1.0, 1.0 / sqrt(dot(d, d, p)));

        double fn = f;
        memcpy(xn, x, sizeof(double) * p);
        memcpy(gn, g, sizeof(double) * p);
        int accepted = 0;
        for (int64_t ls = 0; !small_g && ls < o->max_ls; ls++) {
            trial(x, t, d, lo, hi, p, xt);
            const double ft = objective(P, off, n, xt, gt);
            ne++;
            double dx = 0.0;
            for (int k = 0; k < p; k++) dx += g[k] * (xt[k] - x[k]);
            if (all_finite(ft, gt, p) && ft <= f + o->c1 * dx) {
                memcpy(xn, xt, sizeof(double) * p);
                memcpy(gn, gt, sizeof(double) * p);
                fn = ft;
                accepted = 1;
                break;
            }
            const double tq = -gd * t * t / (2.0 * (ft - f - gd * t));
            t = isfinite(ft) && isfinite(tq) ? fmin(fmax(tq, 0.1 * t), 0.5 * t) : 0.1 * t;
        }
        /* expansion: a unit step that left the slope steep is tried 4x longer */
        if (accepted && t == 1.0) {
            for (int64_t e = 0; e < o->expand; e++) {
                if (!(dot(gn, d, p) < 0.9 * gd)) break;
                t *= 4.0;
                trial(x, t, d, lo, hi, p, xt);
                const double ft = objective(P, off, n, xt, gt);
                ne++;
                if (!(all_finite(ft, gt, p) && ft < fn)) break;
                memcpy(xn, xt, sizeof(double) * p);
                memcpy(gn, gt, sizeof(double) * p);
                fn = ft;
            }
        }
        if (!accepted && !small_g) { /* retry once along steepest descent, then stop */
            if (nh == 0) st = LINE_SEARCH;
            nh = 0;
        }
        double s[MAX_P], y[MAX_P], smax = 0.0, xmax = 0.0;
        for (int k = 0; k < p; k++) {
            s[k] = xn[k] - x[k];
            y[k] = gn[k] - g[k];
            smax = fmax(smax, fabs(s[k]));
            xmax = fmax(xmax, fabs(x[k]));
        }
        const double sy = dot(s, y, p), yy = dot(y, y, p);
        if (accepted && sy > 2.2e-16 * yy && yy > 0) {
            newest = newest + 1 < m ? newest + 1 : 0;
            memcpy(Sh + newest * p, s, sizeof(double) * p);
            memcpy(Yh + newest * p, y, sizeof(double) * p);
            rho[newest] = 1.0 / sy;
            gamma = sy / yy;
            nh = nh + 1 < m ? nh + 1 : m;
        }
        const int small = accepted && (f - fn <= o->ftol * fmax(fabs(f), fabs(fn)) ||
                                       smax <= o->xtol * (1.0 + xmax));
        memcpy(x, xn, sizeof(double) * p);
        memcpy(g, gn, sizeof(double) * p);
        f = fn;
        calm = small ? calm + 1 : 0;
        if (calm >= o->patience) st = CONVERGED;
        else if (small) nh = 0; /* restart */
        it++;
        if (it >= o->max_iter && st == RUNNING) st = MAX_ITER;
    }
    *fout = f;
    *n_iter = it;
    *n_eval = ne;
    return st;
}

/* ---- Python binding: flat C-contiguous buffers in, results written in place ---- */

static int check(const Py_buffer *b, Py_ssize_t n, const char *name) {
    if (b->len != n * 8) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes, expected %zd", name, b->len, n * 8);
        return 0;
    }
    return 1;
}

/* The problem buffers (law_of_row, offsets, F, logy, Mi, ci, Ms, cs, feature): checked
 * against each other and against rows x p of theta; returns 0 with an exception set. */
enum { LAW, OFF, FEAT, LOGY, MI, CI, MS, CS, FIDX, NPROB };
static int problem(Py_buffer *b, Py_ssize_t theta_len, double delta, Problem *P,
                   Py_ssize_t *rows) {
    const Py_ssize_t T = b[FIDX].len / 8, n_total = b[LOGY].len / 8;
    const Py_ssize_t p = T ? b[MI].len / 8 / T : 0, n_laws = b[OFF].len / 8 - 1;
    const Py_ssize_t n_inputs = n_total ? b[FEAT].len / 8 / n_total : 0;
    const int64_t *law = b[LAW].buf, *off = b[OFF].buf, *fidx = b[FIDX].buf;
    *rows = p ? theta_len / 8 / p : 0;
    if (T < 1 || T > MAX_T || p < 1 || p > MAX_P) {
        PyErr_SetString(PyExc_ValueError, "need 1-8 terms and 1-32 parameters");
        return 0;
    }
    if (!(check(&b[LAW], *rows, "law_of_row") && check(&b[MI], p * T, "Mi") &&
          check(&b[CI], T, "ci") && check(&b[MS], p * T, "Ms") && check(&b[CS], T, "cs") &&
          check(&b[FEAT], n_inputs * n_total, "F")))
        return 0;
    int nt = 0;
    for (Py_ssize_t j = 0; j < T; j++) {
        if (fidx[j] >= n_inputs) {
            PyErr_Format(PyExc_ValueError, "term %zd reads input %lld of %zd", j,
                         (long long)fidx[j], n_inputs);
            return 0;
        }
        nt += fidx[j] >= 0;
    }
    if (nt < 1 || nt > 2) {
        PyErr_Format(PyExc_ValueError, "%d terms read an input; need 1 or 2", nt);
        return 0;
    }
    for (Py_ssize_t l = 0; l < n_laws; l++)
        if (off[l] < 0 || off[l] > off[l + 1] || off[l + 1] > n_total) {
            PyErr_Format(PyExc_ValueError, "offsets of law %zd out of order", l);
            return 0;
        }
    for (Py_ssize_t r = 0; r < *rows; r++)
        if (law[r] < 0 || law[r] >= n_laws) {
            PyErr_Format(PyExc_ValueError, "row %zd fits law %lld of %zd", r,
                         (long long)law[r], n_laws);
            return 0;
        }
    *P = (Problem){(int)p, (int)T, b[MI].buf, b[CI].buf, b[MS].buf, b[CS].buf, fidx,
                   b[FEAT].buf, b[LOGY].buf, n_total, delta};
    return 1;
}

static void release(Py_buffer *b, int n) {
    for (int i = 0; i < n; i++)
        if (b[i].obj) PyBuffer_Release(&b[i]);
}

static PyObject *py_objective(PyObject *Py_UNUSED(self), PyObject *args) {
    enum { TH = NPROB, FO, G, NB };
    Py_buffer b[NB] = {0};
    double delta;
    Problem P;
    Py_ssize_t rows;
    PyObject *ret = NULL;
    if (!PyArg_ParseTuple(args, "y*w*w*y*y*y*y*y*y*y*y*y*d", &b[TH], &b[FO], &b[G], &b[LAW],
                          &b[OFF], &b[FEAT], &b[LOGY], &b[MI], &b[CI], &b[MS], &b[CS], &b[FIDX],
                          &delta))
        goto done;
    if (!(problem(b, b[TH].len, delta, &P, &rows) && check(&b[FO], rows, "f") &&
          check(&b[G], rows * P.p, "g")))
        goto done;
    const int64_t *law = b[LAW].buf, *off = b[OFF].buf;
    const double *theta = b[TH].buf;
    double *f = b[FO].buf, *g = b[G].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < rows; r++) {
        const int64_t o0 = off[law[r]];
        f[r] = objective(&P, o0, off[law[r] + 1] - o0, theta + r * P.p, g + r * P.p);
    }
    Py_END_ALLOW_THREADS
    ret = Py_NewRef(Py_None);
done:
    release(b, NB);
    return ret;
}

static PyObject *py_minimize(PyObject *Py_UNUSED(self), PyObject *args) {
    enum { X = NPROB, FO, G, NI, NE, ST, LO, HI, NB };
    Py_buffer b[NB] = {0};
    Options o;
    double delta;
    Problem P;
    Py_ssize_t rows;
    PyObject *ret = NULL;
    if (!PyArg_ParseTuple(args, "w*w*w*w*w*w*y*y*y*y*y*y*y*y*y*y*y*d(LLLLLdddd)", &b[X],
                          &b[FO], &b[G], &b[NI], &b[NE], &b[ST], &b[LO], &b[HI], &b[LAW],
                          &b[OFF], &b[FEAT], &b[LOGY], &b[MI], &b[CI], &b[MS], &b[CS], &b[FIDX],
                          &delta, &o.max_iter, &o.m, &o.max_ls, &o.patience, &o.expand, &o.ftol,
                          &o.gtol, &o.xtol, &o.c1))
        goto done;
    if (o.m < 1 || o.m > 64) {
        PyErr_SetString(PyExc_ValueError, "history must be 1-64");
        goto done;
    }
    if (!(problem(b, b[X].len, delta, &P, &rows) && check(&b[FO], rows, "f") &&
          check(&b[G], rows * P.p, "g") && check(&b[NI], rows, "n_iter") &&
          check(&b[NE], rows, "n_eval") && check(&b[ST], rows, "status") &&
          check(&b[LO], rows * P.p, "lower") && check(&b[HI], rows * P.p, "upper")))
        goto done;
    double *hist = malloc(sizeof(double) * o.m * (2 * P.p + 1));
    if (!hist) {
        PyErr_NoMemory();
        goto done;
    }
    const int64_t *law = b[LAW].buf, *off = b[OFF].buf;
    const double *lo = b[LO].buf, *hi = b[HI].buf;
    double *x = b[X].buf, *f = b[FO].buf, *g = b[G].buf;
    int64_t *ni = b[NI].buf, *ne = b[NE].buf, *st = b[ST].buf;
    const int p = P.p;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < rows; r++) {
        const int64_t o0 = off[law[r]];
        st[r] = run_row(&P, &o, o0, off[law[r] + 1] - o0, x + r * p, f + r, g + r * p,
                        lo + r * p, hi + r * p, ni + r, ne + r, hist);
    }
    Py_END_ALLOW_THREADS
    free(hist);
    ret = Py_NewRef(Py_None);
done:
    release(b, NB);
    return ret;
}

static PyMethodDef methods[] = {
    {"objective", py_objective, METH_VARARGS,
     "objective(theta, f, g, law_of_row, offsets, F, logy, Mi, ci, Ms, cs, feature, delta): "
     "the objective and gradient of every row, written into f and g."},
    {"minimize", py_minimize, METH_VARARGS,
     "minimize(x, f, g, n_iter, n_eval, status, lower, upper, law_of_row, offsets, F, logy, "
     "Mi, ci, Ms, cs, feature, delta, (max_iter, history, max_ls, patience, expand, ftol, "
     "gtol, xtol, c1)): L-BFGS from every row of x, results written into the first six."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_lse_lbfgs",
    .m_doc = "Compiled L-BFGS for the Huber loss of log-sum-exp forms.", .m_size = -1,
    .m_methods = methods};

PyMODINIT_FUNC PyInit__lse_lbfgs(void) { return PyModule_Create(&module); }

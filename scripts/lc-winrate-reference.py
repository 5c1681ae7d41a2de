"""Reference values for alignkit's length-controlled win rate (test/fixtures/lc-winrate-official.json).

Draws synthetic preference sets from known generating parameters (with and without a length
bias, with ties, failed judgements, instruction difficulty and gamed-baseline rows) and runs on
each a re-implementation, written for alignkit, of AlpacaEval 2.0's official LC fit
(`get_length_controlled_winrate` in tatsu-lab/alpaca_eval `src/alpaca_eval/metrics/glm_winrate.py`,
commit cd543a1, with its variants `length_controlled_minimal`, `_noreg` and `_v1`):

  features   tanh(Δlen / std) + instruction_difficulty + not_gamed_baseline, no intercept;
             Δlen = len(output_1 = baseline) − len(output_2 = model) in code points (Python len),
             std = pandas' sample std over every row, failed judgements (NaN) included
  labels     preference [1, 2] → [0, 1], a draw coded 0 → 0.5; NaN rows are dropped before the fit
  gamed rows (v1 only) prepended to the model's rows, sample weight λ/2 = 0.1 (model rows 1)
  fit        every row twice: y = 1 with weight p·w and y = 0 with weight (1 − p)·w; sklearn's
             liblinear L1 logistic regression, no intercept, random_state 123; C from
             logspace(−4, 4, 10) by GroupKFold(5) over the rows (both copies in one group), scored
             by the soft-label log-loss −mean(w·[p log q + (1 − p) log(1 − q)]) (q clipped to
             1e−15); the best summed score wins (first on ties), then a refit on all rows
  LC         100 · mean over every row (NaN rows included) of σ(coef · [0, difficulty, 1])

The official code routes the scorer's true_prob / true_sample_weight through sklearn ≥ 1.4's
metadata routing. This machine has sklearn 1.2.1, so the cross-validation loop is written out
(`cv_fit`), and checked against sklearn 1.2's own LogisticRegressionCV driven with the same
folds and a scorer that knows which fold it is scoring (`cv_fit_sklearn`): both give the same C
and coefficients, asserted for every fit below.

Also written: liblinear and saga solutions of single L1 problems at tight tolerances (to check
alignkit's solver finds the optimum), numpy's argsort order on arrays of equal keys (GroupKFold
sorts groups by size with it: that order fixes the folds), and, per set, the LC implied by the
generating parameters (mean σ(γ·difficulty + φ)).

  /usr/bin/python3 scripts/lc-winrate-reference.py test/fixtures/lc-winrate-official.json
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GroupKFold

CS = np.logspace(-4, 4, 10)
LAMBDA = 0.2
N_SPLITS = 5
# the formulas' design columns, in patsy's order
VARIANTS = {
    "length_controlled_minimal": dict(columns=["tanh_len", "not_gamed_baseline"], gamed=False),
    "length_controlled_noreg": dict(columns=["tanh_len", "instruction_difficulty", "not_gamed_baseline"], gamed=False),
    "length_controlled_v1": dict(columns=["tanh_len", "instruction_difficulty", "not_gamed_baseline"], gamed=True),
}


def sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


def l1_liblinear(C, tol=1e-4, max_iter=100, random_state=123):
    return LogisticRegression(
        C=C, penalty="l1", solver="liblinear", fit_intercept=False, random_state=random_state, tol=tol, max_iter=max_iter
    )


# ---------------------------------------------------------------------------------------------
# the official fit


def soft_logloss(y_binary, q, true_prob, true_weight):
    """The official scorer: y_binary says which copy a row is; its soft label is recovered from true_prob."""
    p = np.where(y_binary == 1, true_prob, 1 - true_prob)
    q = np.clip(q, 1e-15, 1 - 1e-15)
    terms = p * np.log(q) + (1 - p) * np.log(1 - q)
    if true_weight is not None:
        terms = terms * true_weight
    return -np.mean(terms)


def duplicated(X, p, w):
    """Rows twice (y = 1, then y = 0), the fit weights, the scorer's true_prob / weights, and the groups."""
    m = len(p)
    X2 = np.vstack([X, X])
    y2 = np.concatenate([np.ones(m), np.zeros(m)])
    true_prob = np.concatenate([p, 1 - p])
    true_weight = None if w is None else np.concatenate([w, w])
    fit_weight = true_prob if w is None else true_prob * true_weight
    groups = np.concatenate([np.arange(m), np.arange(m)])
    return X2, y2, fit_weight, true_prob, true_weight, groups


def cv_fit(X, p, w):
    """LogisticRegressionCV(Cs=10, cv=GroupKFold(5), penalty='l1', solver='liblinear', refit=True), written out."""
    X2, y2, fit_weight, true_prob, true_weight, groups = duplicated(X, p, w)
    folds = list(GroupKFold(n_splits=N_SPLITS).split(X2, y2, groups))
    scores = np.zeros((len(folds), len(CS)))
    fold_coefs = np.zeros((len(folds), len(CS), X.shape[1]))
    for f, (train, test) in enumerate(folds):
        # LogisticRegressionCV's path draws liblinear's seed for each C from one RandomState(123) per fold
        path_random_state = np.random.RandomState(123)
        for c, C in enumerate(CS):
            model = l1_liblinear(C, random_state=path_random_state)
            model.fit(X2[train], y2[train], sample_weight=fit_weight[train])
            fold_coefs[f, c] = model.coef_[0]
            q = model.predict_proba(X2[test])[:, 1]
            tw = None if true_weight is None else true_weight[test]
            scores[f, c] = -soft_logloss(y2[test], q, true_prob[test], tw)
    best = int(scores.sum(axis=0).argmax())
    model = l1_liblinear(CS[best]).fit(X2, y2, sample_weight=fit_weight)
    return dict(coef=model.coef_[0], best=best, scores=scores, fold_coefs=fold_coefs)


def cv_fit_sklearn(X, p, w):
    """The same fit through sklearn 1.2's LogisticRegressionCV, its scorer told the fold by call order."""
    X2, y2, fit_weight, true_prob, true_weight, groups = duplicated(X, p, w)
    folds = list(GroupKFold(n_splits=N_SPLITS).split(X2, y2, groups))
    calls = [0]

    def scorer(estimator, X_test, y_test):
        test = folds[calls[0] // len(CS)][1]
        calls[0] += 1
        tw = None if true_weight is None else true_weight[test]
        return -soft_logloss(y_test, estimator.predict_proba(X_test)[:, 1], true_prob[test], tw)

    model = LogisticRegressionCV(
        Cs=len(CS), cv=folds, scoring=scorer, penalty="l1", solver="liblinear", fit_intercept=False, random_state=123
    )
    model.fit(X2, y2, sample_weight=fit_weight)
    assert calls[0] == len(folds) * len(CS), calls[0]
    return model.coef_[0], model.C_[0]


def official_lc(annotations, variant, difficulty=None, gamed=None):
    """AlpacaEval's LC win rate of one model's annotations (output_1 = baseline, output_2 = model)."""
    spec = VARIANTS[variant]
    columns = spec["columns"]
    df = annotations.reset_index(drop=True)
    if df["generator_1"].iloc[0] == df["generator_2"].iloc[0]:
        return dict(lc=50.0, lc_se=0.0, coef={c: 0.0 for c in columns}, best_c=None, is_baseline=True)
    delta = df["output_1"].str.len() - df["output_2"].str.len()
    rows = pd.DataFrame(
        {
            "preference": df["preference"].astype(float).replace({0.0: 1.5}) - 1,
            "tanh_len": np.tanh(delta / delta.std()),
            "instruction_difficulty": difficulty[: len(df)] if difficulty is not None else np.nan,
            "not_gamed_baseline": 1.0,
        }
    )
    weight = np.ones(len(rows))
    if spec["gamed"]:
        gamed_rows = pd.DataFrame(
            {
                "preference": gamed["preference"],
                "tanh_len": np.tanh(gamed["std_delta_len"]),
                "instruction_difficulty": gamed["instruction_difficulty"],
                "not_gamed_baseline": 0.0,
            }
        )
        rows = pd.concat([gamed_rows, rows], ignore_index=True)
        weight = np.concatenate([np.full(len(gamed_rows), LAMBDA / 2), weight])
    keep = rows["preference"].notna().to_numpy()
    X = rows[columns].to_numpy(dtype=float)[keep]
    p = rows["preference"].to_numpy(dtype=float)[keep]
    w = weight[keep] if spec["gamed"] else None
    fit = cv_fit(X, p, w)
    coef_sk, c_sk = cv_fit_sklearn(X, p, w)
    assert c_sk == CS[fit["best"]] and np.allclose(coef_sk, fit["coef"], rtol=0, atol=1e-12), (coef_sk, fit)
    # the same rows with Δlen = 0
    X_test = rows[len(rows) - len(df) :][columns].assign(tanh_len=0.0).to_numpy(dtype=float)
    predicted = sigmoid(X_test @ fit["coef"])
    scores = fit["scores"].sum(axis=0)
    return dict(
        lc=float(predicted.mean() * 100),
        lc_se=float(pd.Series(predicted).sem() * 100),
        coef={c: float(v) for c, v in zip(columns, fit["coef"])},
        best_c=float(CS[fit["best"]]),
        cv_scores=[float(s) for s in scores],
        fold_coefs=fit["fold_coefs"].tolist(),
        is_baseline=False,
    )


def raw_metrics(preference):
    """AlpacaEval's get_winrate: draws (0 or 1.5) as 0.5, NaN dropped, win rate and s.e. in points."""
    pref = preference.astype(float)
    n_draws = int(((pref == 1.5) | (pref == 0)).sum())
    p = pref.replace({0.0: 1.5}).dropna() - 1
    discrete = p.round()
    discrete[p == 0.5] = 0.5
    return dict(
        win_rate=float(p.mean() * 100),
        standard_error=float(p.sem() * 100),
        discrete_win_rate=float(discrete.mean() * 100),
        n_wins=int((p > 0.5).sum()),
        n_wins_base=int((p < 0.5).sum()),
        n_draws=n_draws,
        n_total=int(len(p)),
    )


# ---------------------------------------------------------------------------------------------
# synthetic sets

UNICODE_PIECES = ["word ", "naïve ", "日本語 ", "😀 ", "🚀🚀 ", "x"]


def text_of_length(rng, n, unicode):
    if not unicode:
        return "a" * n
    out = ""
    while len(out) < n:
        out += UNICODE_PIECES[rng.integers(len(UNICODE_PIECES))]
    return out[:n]


def draw_set(spec):
    rng = np.random.default_rng(spec["seed"])
    n = spec["n"]
    len_baseline = np.maximum(1, np.round(np.exp(rng.normal(spec.get("log_length", 6.3), 0.5, n)))).astype(int)
    len_model = np.maximum(1, np.round(len_baseline * np.exp(rng.normal(spec["length_shift"], 0.6, n)))).astype(int)
    difficulty = np.round(rng.normal(0, 1, n), 6)  # rounded so that the fixture holds the exact inputs
    delta = len_baseline - len_model
    theta, gamma, phi = spec["theta"], spec["gamma"], spec["phi"]
    logits = theta * np.tanh(delta / delta.std(ddof=1)) + gamma * difficulty + phi
    preference = preferences(rng, sigmoid(logits), spec)
    preference[rng.random(n) < spec.get("failures", 0)] = np.nan
    annotations = pd.DataFrame(
        {
            "instruction": [f"instruction {i}" for i in range(n)],
            "output_1": [text_of_length(rng, k, spec.get("unicode")) for k in len_baseline],
            "output_2": [text_of_length(rng, k, spec.get("unicode")) for k in len_model],
            "generator_1": "baseline",
            "generator_2": "model",
            "preference": preference,
        }
    )
    gamed = draw_gamed(rng, spec, len_baseline, difficulty) if spec.get("gamed") else None
    return annotations, difficulty, gamed, float(sigmoid(gamma * difficulty + phi).mean() * 100)


def preferences(rng, prob, spec):
    """AlpacaEval-coded preferences in [1, 2]: hard verdicts, soft (Beta around prob), with ties at 1.5 / 0."""
    n = len(prob)
    if spec["labels"] == "soft":
        p = np.round(rng.beta(2 * prob + 1e-3, 2 * (1 - prob) + 1e-3), 6)
    else:
        p = (rng.random(n) < prob).astype(float)
    pref = 1 + p
    ties = rng.random(n) < spec.get("ties", 0)
    pref[ties] = np.where(rng.random(ties.sum()) < 0.5, 1.5, 0.0)  # AlpacaEval codes a draw as 1.5 or 0
    return pref


def draw_gamed(rng, spec, len_baseline, difficulty):
    """Rows of df_gamed.csv's layout: the baseline prompted to be verbose / concise, judged against itself."""
    frames = []
    for name, shift in [("baseline_verbose", 0.8), ("baseline_concise", -0.8)]:
        n = len(len_baseline)
        len_gamed = np.maximum(1, np.round(len_baseline * np.exp(rng.normal(shift, 0.4, n)))).astype(int)
        delta = len_baseline - len_gamed
        std_delta_len = np.round(delta / delta.std(ddof=1), 6)
        prob = sigmoid(spec["theta"] * np.tanh(std_delta_len) + spec["gamma"] * difficulty)
        pref = preferences(rng, prob, {**spec, "ties": 0}) - 1
        frames.append(
            pd.DataFrame(
                {
                    "model": name,
                    "index": np.arange(n),
                    "preference": pref,
                    "std_delta_len": std_delta_len,
                    "instruction_difficulty": difficulty,
                    "not_gamed_baseline": False,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


SETS = [
    dict(name="no-bias", n=200, theta=0.0, gamma=0.0, phi=0.3, length_shift=0.3, labels="hard", seed=11),
    dict(name="length-bias", n=200, theta=-2.0, gamma=0.0, phi=-0.6, length_shift=0.4, labels="hard", seed=12),
    dict(name="no-bias-ties", n=200, theta=0.0, gamma=0.0, phi=0.0, length_shift=0.0, labels="hard", ties=0.3, seed=13),
    dict(
        name="length-bias-ties-failures",
        n=400,
        theta=-1.2,
        gamma=0.0,
        phi=0.4,
        length_shift=-0.3,
        labels="hard",
        ties=0.3,
        failures=0.04,
        seed=14,
    ),
    dict(name="difficulty", n=805, theta=-1.0, gamma=1.2, phi=-0.4, length_shift=0.5, labels="soft", failures=0.02, seed=15),
    dict(name="difficulty-gamed", n=805, theta=-1.5, gamma=1.0, phi=0.3, length_shift=0.6, labels="soft", gamed=True, seed=16),
    dict(
        name="unicode-annotations",
        n=60,
        theta=-1.0,
        gamma=0.0,
        phi=0.0,
        length_shift=0.2,
        labels="soft",
        ties=0.1,
        failures=0.05,
        unicode=True,
        log_length=4.0,
        seed=17,
    ),
]


def null_if_nan(x):
    return None if isinstance(x, float) and np.isnan(x) else x


def main(out_path):
    result = dict(
        produced_by="scripts/lc-winrate-reference.py",
        versions=dict(numpy=np.__version__, pandas=pd.__version__, sklearn=sklearn.__version__),
        cs=[float(c) for c in CS],
        sets=[],
    )
    for spec in SETS:
        annotations, difficulty, gamed, true_lc = draw_set(spec)
        entry = dict(
            name=spec["name"],
            generating=dict(
                theta=spec["theta"], gamma=spec["gamma"], phi=spec["phi"], labels=spec["labels"], true_lc=true_lc
            ),
            preference=[null_if_nan(float(p)) for p in annotations["preference"]],
            len_baseline=[len(s) for s in annotations["output_1"]],
            len_model=[len(s) for s in annotations["output_2"]],
            raw=raw_metrics(annotations["preference"]),
            official={},
        )
        if spec.get("unicode"):
            entry["annotations"] = [
                {k: null_if_nan(v) for k, v in row.items()} for row in annotations.to_dict(orient="records")
            ]
        if spec["gamma"] != 0 or spec.get("gamed"):
            entry["difficulty"] = [float(d) for d in difficulty]
        if gamed is not None:
            # df_gamed.csv's rows: each gamed baseline on every instruction in turn (index = row mod n,
            # instruction_difficulty = difficulty[index], not_gamed_baseline = False)
            entry["gamed"] = dict(
                models=list(dict.fromkeys(gamed["model"])),
                preference=gamed["preference"].tolist(),
                std_delta_len=gamed["std_delta_len"].tolist(),
            )
        variants = ["length_controlled_minimal"]
        if "difficulty" in entry:
            variants.append("length_controlled_noreg")
        if gamed is not None:
            variants.append("length_controlled_v1")
        for variant in variants:
            entry["official"][variant] = official_lc(annotations, variant, difficulty, gamed)
        result["sets"].append(entry)
        summary = ", ".join(f"{v.split('_')[-1]} {o['lc']:.2f} (C {o['best_c']:.3g})" for v, o in entry["official"].items())
        print(f"{spec['name']}: raw {entry['raw']['win_rate']:.2f}, true LC {true_lc:.2f}; {summary}", file=sys.stderr)

    result["solver"] = solver_references(result["sets"][0])
    # the seeds sklearn hands liblinear: RandomState(123).randint(INT_MAX), drawn in turn
    result["liblinear_seeds"] = [int(s) for s in np.random.RandomState(123).randint(np.iinfo("i").max, size=12)]
    result["argsort_equal_keys"] = {str(n): np.argsort(np.full(n, 2, dtype=np.int64)).tolist() for n in [5, 17, 40, 203, 805]}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")


def solver_references(entry):
    """Single L1 problems (the no-bias set's rows, some at weight 0.1) solved by liblinear and saga: all-zero,
    sparse (length weight 0) and dense solutions."""
    pref = np.array([np.nan if p is None else p for p in entry["preference"]], dtype=float)
    pref = np.where(pref == 0, 1.5, pref) - 1
    delta = np.array(entry["len_baseline"]) - np.array(entry["len_model"])
    X = np.column_stack([np.tanh(delta / delta.std(ddof=1)), np.ones(len(delta))])
    weights = np.where(np.arange(len(delta)) % 3 == 0, 0.1, 1.0)
    X2, y2, fit_weight, *_ = duplicated(X, pref, weights)
    problems = []
    for C in [0.05, 0.2, 0.5, 3.0, 1e4]:
        with warnings.catch_warnings():  # at tol 1e-12 liblinear runs to max_iter: rounding stops the progress
            warnings.simplefilter("ignore", ConvergenceWarning)
            tight = l1_liblinear(C, tol=1e-12, max_iter=2000).fit(X2, y2, sample_weight=fit_weight).coef_[0]
        default = l1_liblinear(C).fit(X2, y2, sample_weight=fit_weight).coef_[0]
        saga = LogisticRegression(
            C=C, penalty="l1", solver="saga", fit_intercept=False, tol=1e-14, max_iter=1000000, random_state=0
        ).fit(X2, y2, sample_weight=fit_weight).coef_[0]
        problems.append(
            dict(C=C, liblinear_tight=tight.tolist(), liblinear_default=default.tolist(), saga_tight=saga.tolist())
        )
    return dict(x=X.tolist(), p=pref.tolist(), w=weights.tolist(), problems=problems)


if __name__ == "__main__":
    main(sys.argv[1])

-- Laws stored as nan_prediction although their parameters are finite: a parameter fitted to
-- exactly 0 (E underflowed; log 0 = -inf) made every prediction NaN, a bug since fixed
-- (analyses/laws/forms.py). Removed once here so that `meta fit-all` refits them (same ids):
-- 363 of the 59,430 laws of the public data, 359 of them with E = 0.
DELETE FROM predictions WHERE law_id IN
    (SELECT law_id FROM laws WHERE status = 'nan_prediction' AND params IS NOT NULL);
DELETE FROM laws WHERE status = 'nan_prediction' AND params IS NOT NULL;

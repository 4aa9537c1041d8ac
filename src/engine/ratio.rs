//! Exact "at least this share" arithmetic: how many of `n` are needed to reach a ratio.
//!
//! A ratio setting arrives as a JSON decimal (`0.75`, `0.66`) and is held as the nearest
//! `f64`. Multiplying that float by `n` gives surprises (`0.7 · 10 = 7.000000000000001`,
//! whose ceiling is 8), so the count needed is computed from the decimal the user wrote:
//! Rust prints an `f64` as the shortest decimal that reads back to the same float, which
//! for any ratio typed with up to 15 significant digits is exactly what was typed. With
//! that decimal `m / 10^d`, the smallest `k` with `k / n ≥ m / 10^d` is
//! `ceil(m·n / 10^d)`, computed in integers. Pass/fail of every ratio criterion is
//! `count ≥ needed(n, ratio)`, so the verdict and the "k needed" of a blocker sentence
//! never disagree.

use std::cell::RefCell;

/// The smallest whole `k` with `k / n ≥ ratio`: `0` for a ratio of 0 or below (and for a
/// NaN, which validated settings never hold), `n` for a ratio of 1 or above, `0` for
/// `n = 0` (callers treat a zero denominator on their own).
pub fn needed(n: u64, ratio: f64) -> u64 {
    if n == 0 || ratio.is_nan() || ratio <= 0.0 {
        return 0;
    }
    if ratio >= 1.0 {
        return n;
    }
    match decimal(ratio) {
        Some((m, d)) => {
            let scale = 10u128.pow(d);
            let num = m.saturating_mul(u128::from(n));
            let k = num.div_ceil(scale);
            u64::try_from(k).unwrap_or(n).min(n)
        }
        None => {
            // More than 24 decimals (a ratio below 1e-9 or so): no user types that, and
            // the float product is then exact enough.
            // A positive ratio always needs at least one.
            let k = (ratio * n as f64 - 1e-9).ceil();
            if k <= 1.0 {
                1
            } else {
                (k as u64).min(n)
            }
        }
    }
}

/// Whether `count` of `n` reaches `ratio`; false when `n` is 0.
pub fn reaches(count: u64, n: u64, ratio: f64) -> bool {
    n > 0 && count >= needed(n, ratio)
}

/// `count / n` as a float for display, 0 when `n` is 0.
pub fn share(count: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        count as f64 / n as f64
    }
}

/// `(m, d)`: the decimal `m / 10^d` a ratio prints as (none past 24 decimals).
type Decimal = Option<(u128, u32)>;

/// A ratio in (0, 1) as `(m, d)` with `ratio = m / 10^d` exactly as printed. The settings
/// hold a handful of ratios and a history measures them at every step: each is printed
/// once per thread (printing it at every step was a ninth of a step's measuring, issue 15).
fn decimal(ratio: f64) -> Decimal {
    thread_local! {
        static PRINTED: RefCell<Vec<(u64, Decimal)>> = const { RefCell::new(Vec::new()) };
    }
    /// Ratios remembered per thread before the list starts over.
    const REMEMBERED: usize = 16;
    let bits = ratio.to_bits();
    PRINTED.with(|printed| {
        if let Some((_, d)) = printed.borrow().iter().find(|(b, _)| *b == bits) {
            return *d;
        }
        let d = printed_decimal(ratio);
        let mut printed = printed.borrow_mut();
        if printed.len() >= REMEMBERED {
            printed.clear();
        }
        printed.push((bits, d));
        d
    })
}

/// [`decimal`], printing `ratio`.
fn printed_decimal(ratio: f64) -> Decimal {
    let s = format!("{ratio}");
    let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
    if int != "0" || frac.len() > 24 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d = u32::try_from(frac.len()).ok()?;
    let m = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().ok()?
    };
    Some((m, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_examples_of_the_brief() {
        assert_eq!(needed(12, 0.75), 9);
        assert_eq!(needed(3, 0.66), 2);
        assert_eq!(needed(0, 0.5), 0);
        assert!(!reaches(0, 0, 0.5));
        assert!(!reaches(0, 0, 0.0));
    }

    #[test]
    fn floats_that_overshoot_do_not_ask_for_one_more() {
        // 0.7 * 10 = 7.000000000000001 in f64.
        assert_eq!(needed(10, 0.7), 7);
        assert!(reaches(7, 10, 0.7));
        // 0.1 * 3 = 0.30000000000000004
        assert_eq!(needed(30, 0.1), 3);
        assert_eq!(needed(100, 0.29), 29);
        assert_eq!(needed(100, 0.57), 57);
    }

    #[test]
    fn edges_of_the_ratio() {
        assert_eq!(needed(12, 0.0), 0);
        assert_eq!(needed(12, 1.0), 12);
        assert_eq!(needed(12, 1.5), 12);
        assert_eq!(needed(12, -1.0), 0);
        assert_eq!(needed(12, f64::NAN), 0);
        assert_eq!(needed(12, 1e-30), 1);
        assert_eq!(needed(3, 1.0 / 3.0), 1);
        assert_eq!(
            needed(u64::from(u32::MAX) * 8, 0.5),
            u64::from(u32::MAX) * 4
        );
    }

    proptest! {
        #[test]
        fn needed_is_the_least_count_reaching_a_two_decimal_ratio(n in 1u64..5000, p in 0u64..=100) {
            let ratio = p as f64 / 100.0;
            let k = needed(n, ratio);
            // exact integer check: k*100 >= p*n and (k-1)*100 < p*n
            prop_assert!(k * 100 >= p * n);
            if k > 0 {
                prop_assert!((k - 1) * 100 < p * n);
            }
        }

        #[test]
        fn needed_is_the_least_count_reaching_a_three_decimal_ratio(n in 1u64..5000, p in 0u64..=1000) {
            let ratio = p as f64 / 1000.0;
            let k = needed(n, ratio);
            prop_assert!(k * 1000 >= p * n);
            if k > 0 {
                prop_assert!((k - 1) * 1000 < p * n);
            }
        }
    }
}

//! Touchpoints and multi-touch attribution, on the device, under the measurement purpose
//! only. Each visit is a touchpoint: where the visitor came from (the channel Tailor
//! already reads from the context, with the campaign's source, medium and name) and the
//! experiences shown during it. A goal reached credits the touchpoints of the lookback
//! window by the models marketers know, and only the credit per channel is kept.
//!
//! A visit is what analytics tools call a session: it starts with the first page view,
//! and a new one starts after [`VISIT_GAP_MS`] without a page view, or when the visitor
//! arrives again from a campaign or another site (a direct page view in the middle of a
//! visit is part of it).

/// A new visit starts after this long without a page view: 30 minutes.
pub const VISIT_GAP_MS: f64 = 30.0 * 60_000.0;
/// At most this many touchpoints are kept (the oldest go first): a visitor's last 50 visits.
pub const MAX_TOUCHPOINTS: usize = 50;
/// At most this many experience variants are remembered per touchpoint.
pub const MAX_SHOWN: usize = 10;
/// Source, medium and campaign are cut to this many characters.
pub const MAX_LABEL: usize = 100;
/// The lookback window when the rules set none: 30 days.
pub const DEFAULT_LOOKBACK_MS: f64 = 30.0 * 86_400_000.0;
/// The time-decay half-life when the rules set none: 7 days.
pub const DEFAULT_HALF_LIFE_MS: f64 = 7.0 * 86_400_000.0;

/// One visit, as attribution sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Touchpoint {
    /// When the visit started, ms since the epoch.
    pub at: f64,
    /// Its last page view.
    pub last: f64,
    /// The context's `channel`: `direct`, `organic_search`, `paid_search`, `social`,
    /// `email`, `display` or `referral`.
    pub channel: String,
    /// `utm_source`, else the referrer's host (empty for a direct visit).
    pub source: String,
    /// `utm_medium`.
    pub medium: String,
    /// `utm_campaign`.
    pub campaign: String,
    /// The experience variants shown during the visit, `(experience, variant)`.
    pub shown: Vec<(String, String)>,
}

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// All the credit to the first touchpoint of the window.
    FirstTouch,
    /// All the credit to the last.
    LastTouch,
    /// All the credit to the last touchpoint that was not a direct visit (the last one
    /// when all were direct).
    LastNonDirect,
    /// Equal shares.
    Linear,
    /// Shares halving every half-life before the goal.
    TimeDecay,
    /// 40% to the first, 40% to the last, 20% shared by those between (half each with
    /// two touchpoints, all of it with one).
    PositionBased,
}

impl Model {
    /// Every model, in the order reports list them.
    pub const ALL: [Model; 6] = [Model::FirstTouch, Model::LastTouch, Model::LastNonDirect, Model::Linear, Model::TimeDecay, Model::PositionBased];

    /// The model's name in reports: `first_touch`, `last_touch`, `last_non_direct`,
    /// `linear`, `time_decay`, `position_based`.
    pub fn name(self) -> &'static str {
        match self {
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::LastNonDirect => "last_non_direct",
            Model::Linear => "linear",
            Model::TimeDecay => "time_decay",
            Model::PositionBased => "position_based",
        }
    }

    /// The model named `name`.
    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Each touchpoint's share of one conversion at `now` under `model`, in the order given
/// (oldest first); the shares add up to 1 (an empty list gets none).
pub fn shares(model: Model, touchpoints: &[&Touchpoint], now: f64, half_life_ms: f64) -> Vec<f64> {
    let n = touchpoints.len();
    let mut out = vec![0.0; n];
    if n == 0 {
        return out;
    }
    match model {
        Model::FirstTouch => out[0] = 1.0,
        Model::LastTouch => out[n - 1] = 1.0,
        Model::LastNonDirect => {
            let i = touchpoints.iter().rposition(|t| t.channel != "direct").unwrap_or(n - 1);
            out[i] = 1.0;
        }
        Model::Linear => out.iter_mut().for_each(|s| *s = 1.0 / n as f64),
        Model::TimeDecay => {
            let weights: Vec<f64> = touchpoints.iter().map(|t| (-(now - t.at).max(0.0) / half_life_ms).exp2()).collect();
            let total: f64 = weights.iter().sum();
            for (s, w) in out.iter_mut().zip(weights) {
                *s = w / total;
            }
        }
        Model::PositionBased => match n {
            1 => out[0] = 1.0,
            2 => out = vec![0.5, 0.5],
            _ => {
                out.iter_mut().for_each(|s| *s = 0.2 / (n - 2) as f64);
                out[0] = 0.4;
                out[n - 1] = 0.4;
            }
        },
    }
    out
}

/// A label kept in a touchpoint: at most [`MAX_LABEL`] characters.
pub fn label(s: &str) -> String {
    s.chars().take(MAX_LABEL).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: f64 = 86_400_000.0;

    fn tp(at: f64, channel: &str) -> Touchpoint {
        Touchpoint { at, last: at, channel: channel.into(), source: String::new(), medium: String::new(), campaign: String::new(), shown: Vec::new() }
    }

    fn of(model: Model, list: &[Touchpoint], now: f64) -> Vec<f64> {
        let refs: Vec<&Touchpoint> = list.iter().collect();
        shares(model, &refs, now, 7.0 * DAY).into_iter().map(|s| (s * 1e6).round() / 1e6).collect()
    }

    #[test]
    fn each_model_shares_one_conversion() {
        let list = [tp(0.0, "email"), tp(7.0 * DAY, "social"), tp(14.0 * DAY, "paid_search"), tp(21.0 * DAY, "direct")];
        let now = 21.0 * DAY;
        assert_eq!(of(Model::FirstTouch, &list, now), [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(of(Model::LastTouch, &list, now), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(of(Model::LastNonDirect, &list, now), [0.0, 0.0, 1.0, 0.0]);
        assert_eq!(of(Model::Linear, &list, now), [0.25, 0.25, 0.25, 0.25]);
        // Weights 1/8, 1/4, 1/2, 1 (a half-life of 7 days), over 15/8.
        assert_eq!(of(Model::TimeDecay, &list, now), [0.066667, 0.133333, 0.266667, 0.533333]);
        assert_eq!(of(Model::PositionBased, &list, now), [0.4, 0.1, 0.1, 0.4]);
    }

    #[test]
    fn short_paths_and_all_direct() {
        let one = [tp(0.0, "direct")];
        let two = [tp(0.0, "direct"), tp(DAY, "direct")];
        for m in Model::ALL {
            assert_eq!(of(m, &one, DAY), [1.0], "{m:?}");
            assert!((of(m, &two, DAY).iter().sum::<f64>() - 1.0).abs() < 1e-9, "{m:?}");
        }
        assert_eq!(of(Model::PositionBased, &two, DAY), [0.5, 0.5]);
        assert_eq!(of(Model::LastNonDirect, &two, DAY), [0.0, 1.0], "all direct: the last one");
        assert!(of(Model::Linear, &[], DAY).is_empty());
    }

    #[test]
    fn shares_always_add_up_to_one() {
        for n in 1..30 {
            let list: Vec<Touchpoint> = (0..n).map(|i| tp(i as f64 * 3_600_000.0, if i % 3 == 0 { "direct" } else { "email" })).collect();
            for m in Model::ALL {
                let sum: f64 = shares(m, &list.iter().collect::<Vec<_>>(), n as f64 * 3_600_000.0, 7.0 * DAY).iter().sum();
                assert!((sum - 1.0).abs() < 1e-9, "{m:?} over {n}: {sum}");
            }
        }
    }
}

//! The commitment ladder's search: the cheapest purchases that hold at least
//! the required units in every month, given what each term costs.
//!
//! **The problem.** Months 0..M, a requirement d[m] (units). Buying u units of
//! term t at the start of month s holds them in months [s, s + L_t) and costs
//! u x c_t, c_t the whole commitment (price per unit-hour x hours per month x
//! L_t), also when the term runs past month M: the ladder signs it. Minimise
//! the total cost so that the units held in every month are at least d[m].
//!
//! **Why a flow is exact.** With one column per purchase (an interval of
//! months) and one row per month, the covering constraints have consecutive
//! ones in every column: an interval matrix, totally unimodular, so the linear
//! programme's optimum is integral and solving the linear programme solves the
//! integer one. Subtract each row from the next (rows 0..M, d[-1] = d[M] = 0)
//! and every column becomes +1 at its first month and -1 after its last: the
//! programme is a minimum-cost flow on nodes 0..M, a purchase an arc
//! s -> min(s + L_t, M) of cost c_t, a unit held beyond the requirement in
//! month m an arc m + 1 -> m of cost 0, and node m supplies d[m] - d[m - 1].
//! Successive shortest paths (Bellman-Ford, at most 37 nodes) solve it exactly.
//! Costs are whole micro-dollars, so the search never compares rounded floats
//! and the answer is the same on every machine.
//!
//! **Why each purchase is made.** The shortest-path distances h of the final
//! residual graph are optimal duals: month m's marginal price is
//! u_m = h[m + 1] - h[m] >= 0, what one more unit of requirement in month m
//! would add to the optimum. A column's reduced cost c_t - sum of u over its
//! months is 0 for every purchase made and, for a purchase not made, a lower
//! bound on what forcing one unit of it into the plan would add (any plan x
//! costs at least the optimum plus the reduced costs of its columns).
//!
//! Units are bought in blocks (the gcd of the vendor's minimum and step); a
//! requirement is a purchasable number of units, so it is a whole number of
//! blocks.

/// A term as the ladder buys it: a whole number of months.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LadderTerm {
    pub name: String,
    /// Months one purchase holds (and pays for); 1 for terms of a month or
    /// less (hourly units held all month, weekly terms renewed through it).
    pub months: u32,
    pub price_per_unit_hour: f64,
    /// Whether the purchase is a commitment (false: billed by the hour).
    pub commits: bool,
    /// The price per unit-hour of a purchase made in each month, when prices change inside
    /// the window (a purchase keeps its price for its whole term); empty: every month at
    /// `price_per_unit_hour`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_month: Vec<f64>,
}

impl LadderTerm {
    /// What one unit costs over the whole purchase.
    pub fn unit_cost(&self, hours_per_month: f64) -> f64 {
        self.price_per_unit_hour * hours_per_month * self.months as f64
    }
    /// What one unit costs per month held.
    pub fn unit_month(&self, hours_per_month: f64) -> f64 {
        self.price_per_unit_hour * hours_per_month
    }
    /// The price per unit-hour of a purchase made in month `month`.
    pub fn price_in(&self, month: u32) -> f64 {
        self.by_month
            .get(month as usize)
            .copied()
            .unwrap_or(self.price_per_unit_hour)
    }
    /// What one unit bought in month `month` costs over the whole purchase.
    pub fn unit_cost_in(&self, month: u32, hours_per_month: f64) -> f64 {
        self.price_in(month) * hours_per_month * self.months as f64
    }
    /// What one unit bought in month `month` costs per month held.
    pub fn unit_month_in(&self, month: u32, hours_per_month: f64) -> f64 {
        self.price_in(month) * hours_per_month
    }
}

/// A purchase: `units` units of `term` (an index into the terms) bought at
/// the start of `month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Buy {
    pub month: u32,
    pub term: usize,
    pub units: u32,
}

/// The cheapest ladder and its duals.
#[derive(Debug, Clone)]
pub struct Solution {
    /// Purchases by month, then term.
    pub buys: Vec<Buy>,
    /// The total of the purchases' whole commitments, $.
    pub cost_usd: f64,
    /// Month m's marginal price: $ one more unit of requirement in month m
    /// would add to the optimum (the covering row's dual).
    pub marginal_usd: Vec<f64>,
}

impl Solution {
    /// What holding one more unit in months [from, to) is worth to this plan:
    /// the sum of those months' marginal prices.
    pub fn worth(&self, from: usize, to: usize) -> f64 {
        self.marginal_usd[from.min(to)..to.min(self.marginal_usd.len())]
            .iter()
            .sum()
    }
}

const MICRO: f64 = 1e6;

/// Micro-dollars of one block of `t` bought in month `month`, over its whole term.
fn block_cost(t: &LadderTerm, month: u32, block: u32, hours_per_month: f64) -> i128 {
    (t.unit_cost_in(month, hours_per_month) * block as f64 * MICRO).round() as i128
}

struct Arc {
    from: usize,
    to: usize,
    cost: i128,
    flow: i128,
    /// The term bought, None for a surplus arc.
    term: Option<usize>,
}

/// The arc a shortest path reaches a node by: (index, used forward), None at a root.
type Via = Option<(usize, bool)>;

/// Shortest distances over the residual graph from every node with `start`
/// (None = not a source), and the arc reaching each node (index, forward).
fn shortest(nodes: usize, arcs: &[Arc], start: &[Option<i128>]) -> (Vec<Option<i128>>, Vec<Via>) {
    let mut dist = start.to_vec();
    let mut via = vec![None; nodes];
    // Bellman-Ford: the residual graph has no negative cycle (successive
    // shortest paths keep it so), so nodes rounds suffice.
    for _ in 0..nodes {
        let mut changed = false;
        for (i, a) in arcs.iter().enumerate() {
            let mut relax = |u: usize, v: usize, c: i128, fwd: bool| {
                if let Some(du) = dist[u] {
                    if dist[v].is_none_or(|dv| du + c < dv) {
                        dist[v] = Some(du + c);
                        via[v] = Some((i, fwd));
                        changed = true;
                    }
                }
            };
            relax(a.from, a.to, a.cost, true);
            if a.flow > 0 {
                relax(a.to, a.from, -a.cost, false);
            }
        }
        if !changed {
            break;
        }
    }
    (dist, via)
}

/// The cheapest purchases holding at least `need[m]` units in every month
/// (each a multiple of `block`, rounded up otherwise). `terms` must not be
/// empty and each must last at least one month.
pub fn solve(need: &[u32], block: u32, terms: &[LadderTerm], hours_per_month: f64) -> Solution {
    solve_without(need, block, terms, hours_per_month, None)
        .expect("terms of at least one month cover any requirement")
}

/// [`solve`] with one purchase forbidden: no units of term `.1` bought at
/// month `.0`. None when the requirement cannot be covered without it.
pub fn solve_without(
    need: &[u32],
    block: u32,
    terms: &[LadderTerm],
    hours_per_month: f64,
    forbid: Option<(u32, usize)>,
) -> Option<Solution> {
    let block = block.max(1);
    let m_count = need.len();
    let nodes = m_count + 1;
    let blocks: Vec<i128> = need.iter().map(|&d| d.div_ceil(block) as i128).collect();
    let mut arcs = Vec::new();
    for s in 0..m_count {
        for (t, term) in terms.iter().enumerate() {
            if forbid == Some((s as u32, t)) {
                continue;
            }
            arcs.push(Arc {
                from: s,
                to: (s + term.months.max(1) as usize).min(m_count),
                cost: block_cost(term, s as u32, block, hours_per_month),
                flow: 0,
                term: Some(t),
            });
        }
        arcs.push(Arc {
            from: s + 1,
            to: s,
            cost: 0,
            flow: 0,
            term: None,
        });
    }
    // Supplies: node m gives d[m] - d[m - 1] (d[-1] = d[M] = 0).
    let mut excess: Vec<i128> = (0..nodes)
        .map(|m| blocks.get(m).copied().unwrap_or(0) - m.checked_sub(1).map_or(0, |p| blocks[p]))
        .collect();
    while excess.iter().any(|&e| e > 0) {
        let start: Vec<Option<i128>> = excess.iter().map(|&e| (e > 0).then_some(0)).collect();
        let (dist, via) = shortest(nodes, &arcs, &start);
        // The nearest node short of flow (lowest index on ties).
        let sink = (0..nodes)
            .filter(|&v| excess[v] < 0 && dist[v].is_some())
            .min_by_key(|&v| (dist[v], v))?;
        let mut path = Vec::new();
        let mut v = sink;
        // Back to the root of the shortest-path tree: a node with excess
        // whose distance stayed 0 (no negative cycle, so the chain ends).
        while let Some((i, fwd)) = via[v] {
            path.push((i, fwd));
            v = if fwd { arcs[i].from } else { arcs[i].to };
        }
        let source = v;
        let mut amount = excess[source].min(-excess[sink]);
        for &(i, fwd) in &path {
            if !fwd {
                amount = amount.min(arcs[i].flow);
            }
        }
        for &(i, fwd) in &path {
            arcs[i].flow += if fwd { amount } else { -amount };
        }
        excess[source] -= amount;
        excess[sink] += amount;
    }
    // Duals: distances from a virtual source joined to every node at cost 0.
    let (h, _) = shortest(nodes, &arcs, &vec![Some(0); nodes]);
    let h: Vec<i128> = h.into_iter().map(|d| d.unwrap_or(0)).collect();
    let marginal_usd = (0..m_count)
        .map(|m| (h[m + 1] - h[m]) as f64 / MICRO / block as f64)
        .collect();
    let mut buys: Vec<Buy> = arcs
        .iter()
        .filter(|a| a.flow > 0)
        .filter_map(|a| {
            a.term.map(|t| Buy {
                month: a.from as u32,
                term: t,
                units: (a.flow * block as i128) as u32,
            })
        })
        .collect();
    buys.sort();
    let cost_usd = cost(&buys, terms, hours_per_month);
    Some(Solution {
        buys,
        cost_usd,
        marginal_usd,
    })
}

/// The total cost of a set of purchases (whole commitments).
pub fn cost(buys: &[Buy], terms: &[LadderTerm], hours_per_month: f64) -> f64 {
    buys.iter()
        .map(|b| terms[b.term].unit_cost_in(b.month, hours_per_month) * b.units as f64)
        .sum()
}

/// Units held in each of `months` months, by term.
pub fn holdings(buys: &[Buy], terms: &[LadderTerm], months: usize) -> Vec<Vec<u32>> {
    let mut held = vec![vec![0u32; terms.len()]; months];
    for b in buys {
        let end = (b.month as usize + terms[b.term].months as usize).min(months);
        for row in &mut held[(b.month as usize).min(end)..end] {
            row[b.term] += b.units;
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn term(name: &str, months: u32, price: f64) -> LadderTerm {
        LadderTerm {
            name: name.into(),
            months,
            price_per_unit_hour: price,
            commits: name != "hourly",
            by_month: Vec::new(),
        }
    }

    #[test]
    fn three_months_by_hand() {
        // 730 h a month. Monthly $1/unit-h = $730 a unit-month; a 3-month term
        // at $0.80 = $1,752 a unit for 3 months; hourly $2 = $1,460 a unit-month.
        let terms = [
            term("hourly", 1, 2.0),
            term("monthly", 1, 1.0),
            term("quarter", 3, 0.8),
        ];
        // Need 10, 20, 10 units in blocks of 10. The bottom 10 units are needed
        // all three months: a quarter costs 10 x 1,752 = 17,520 against 3 x 7,300
        // = 21,900 monthly. The next 10 only in month 1: monthly 7,300 against a
        // quarter's 17,520 or hourly 14,600. Total 24,820.
        let s = solve(&[10, 20, 10], 10, &terms, 730.0);
        assert_eq!(
            s.buys,
            vec![
                Buy {
                    month: 0,
                    term: 2,
                    units: 10
                },
                Buy {
                    month: 1,
                    term: 1,
                    units: 10
                }
            ]
        );
        assert!((s.cost_usd - 24_820.0).abs() < 1e-6);
        // Duals: month 1's extra unit is bought monthly ($730). The quarter's
        // $1,752 is spread over months 0 and 2 (month 1 already pays 730):
        // u0 + u2 = 1,022; any split is optimal, and the total is the cost.
        assert!((s.marginal_usd[1] - 730.0).abs() < 1e-6);
        assert!((s.worth(0, 3) - 1_752.0).abs() < 1e-6);
        let dual: f64 = [10.0, 20.0, 10.0]
            .iter()
            .zip(&s.marginal_usd)
            .map(|(d, u)| d * u)
            .sum();
        assert!((dual - s.cost_usd).abs() < 1e-6, "strong duality");
        assert_eq!(
            holdings(&s.buys, &terms, 3),
            vec![vec![0, 0, 10], vec![0, 10, 10], vec![0, 0, 10]]
        );
        // Need only in month 2: one month of monthly, not a quarter.
        let late = solve(&[0, 0, 10], 10, &terms, 730.0);
        assert_eq!(
            late.buys,
            vec![Buy {
                month: 2,
                term: 1,
                units: 10
            }]
        );
    }

    /// Every way of buying whole blocks, searched exhaustively: the cheapest
    /// cost that covers `need` (the first month short of units must be covered
    /// by a purchase starting then, so the search branches only there).
    fn brute(need: &[u32], step: u32, terms: &[LadderTerm]) -> f64 {
        fn go(m: usize, held: &mut Vec<u32>, need: &[u32], step: u32, terms: &[LadderTerm]) -> f64 {
            if m == need.len() {
                return 0.0;
            }
            if held[m] >= need[m] {
                return go(m + 1, held, need, step, terms);
            }
            let mut best = f64::INFINITY;
            for t in terms {
                let end = (m + t.months as usize).min(need.len());
                for h in &mut held[m..end] {
                    *h += step;
                }
                best = best.min(t.unit_cost(730.0) * step as f64 + go(m, held, need, step, terms));
                for h in &mut held[m..end] {
                    *h -= step;
                }
            }
            best
        }
        go(0, &mut vec![0; need.len()], need, step, terms)
    }

    fn four_terms() -> [LadderTerm; 4] {
        [
            term("hourly", 1, 1.9),
            term("monthly", 1, 1.0),
            term("quarter", 3, 0.85),
            term("half", 6, 0.8),
        ]
    }

    #[test]
    fn a_dip_is_bridged_not_layered() {
        // Layer by layer (the earlier search) this cost 6,971.5; the optimum
        // keeps one half-year unit through the dip: 6,643.
        let terms = four_terms();
        let s = solve(&[2, 1, 3, 3, 1], 1, &terms, 730.0);
        assert!((s.cost_usd - 6_643.0).abs() < 1e-6, "{}", s.cost_usd);
        assert!((brute(&[2, 1, 3, 3, 1], 1, &terms) - 6_643.0).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn matches_an_exhaustive_search(
            need in proptest::collection::vec(0u32..4, 1..6),
            prices in proptest::collection::vec(0.3f64..2.0, 4),
            lens in proptest::collection::vec(1u32..7, 4),
            step in 1u32..3,
        ) {
            let terms: Vec<LadderTerm> = (0..4)
                .map(|i| term(&format!("t{i}"), lens[i], (prices[i] * 100.0).round() / 100.0))
                .collect();
            let need: Vec<u32> = need.iter().map(|d| d * step).collect();
            let s = solve(&need, step, &terms, 730.0);
            let ex = brute(&need, step, &terms);
            prop_assert!((s.cost_usd - ex).abs() < 1e-3, "{:?}: flow {} exhaustive {}", need, s.cost_usd, ex);
            // Every month holds what it needs.
            for (m, row) in holdings(&s.buys, &terms, need.len()).iter().enumerate() {
                prop_assert!(row.iter().sum::<u32>() >= need[m]);
            }
            // Duals: non-negative, no column priced below the months it
            // covers, and the dual objective equals the cost.
            prop_assert!(s.marginal_usd.iter().all(|&u| u >= -1e-9));
            for t in &terms {
                for m in 0..need.len() {
                    prop_assert!(s.worth(m, m + t.months as usize) <= t.unit_cost(730.0) + 1e-6);
                }
            }
            let dual: f64 = need.iter().zip(&s.marginal_usd).map(|(&d, u)| d as f64 * u).sum();
            prop_assert!((dual - s.cost_usd).abs() < 1e-3);
        }
    }
}

//! Seed derivation: one independent generator per (replication, purpose, index).
//!
//! The generator is PCG64 (`rand_pcg::Pcg64Mcg`, 128-bit MCG with XSL-RR output),
//! pinned by version in Cargo.lock, never `StdRng` whose algorithm may change.
//! Streams are keyed by what they are for, so two scenarios that differ only in
//! capacity draw the same arrivals and tokens (common random numbers).

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

pub type SimRng = Pcg64Mcg;

/// What a stream is used for. The discriminant is part of the seed: never reorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    Arrivals = 1,
    Tokens = 2,
    Latency = 3,
    Retry = 4,
    Outages = 5,
    Routing = 6,
}

/// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective mixer, so distinct
/// keys give distinct, well-spread seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator for `(seed, replication, purpose, key)`; `key` tells apart
/// streams of one purpose (e.g. the request class, see [`key_of`]).
pub fn stream(seed: u64, replication: u32, purpose: Purpose, key: u64) -> SimRng {
    let a = mix(seed ^ mix(replication as u64));
    let b = mix(mix(a ^ purpose as u64) ^ mix(key));
    let hi = mix(b ^ 0xA5A5_A5A5_A5A5_A5A5) as u128;
    let lo = mix(b) as u128;
    SimRng::from_seed(((hi << 64) | lo).to_le_bytes())
}

/// A stream key from a name (64-bit FNV-1a), so a class keeps its random
/// numbers when other classes are added, removed or reordered.
pub fn key_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |r: &mut SimRng| (0..4).map(|_| r.random::<u64>()).collect::<Vec<_>>();
        let a = draw(&mut stream(7, 0, Purpose::Arrivals, 0));
        assert_eq!(a, draw(&mut stream(7, 0, Purpose::Arrivals, 0)));
        assert_ne!(a, draw(&mut stream(7, 1, Purpose::Arrivals, 0)));
        assert_ne!(a, draw(&mut stream(7, 0, Purpose::Tokens, 0)));
        assert_ne!(a, draw(&mut stream(7, 0, Purpose::Arrivals, 1)));
        assert_ne!(a, draw(&mut stream(8, 0, Purpose::Arrivals, 0)));
    }

    #[test]
    fn pinned_first_value() {
        // Guards the generator and the derivation: if this changes, every
        // published result changes with it.
        let v: u64 = stream(1, 0, Purpose::Arrivals, 0).random();
        assert_eq!(v, 13_331_999_497_566_801_212, "first value");
    }
}

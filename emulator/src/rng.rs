//! Deterministic randomness. Every random decision is a pure function of the
//! run's seed, the request number and a purpose tag, so the same seed gives
//! the same faults and jitter whatever order threads happen to run in.

/// One round of splitmix64: a good 64-bit mixer, enough for tests.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A 64-bit value for (seed, request number, purpose).
pub(crate) fn draw(seed: u64, n: u64, purpose: u64) -> u64 {
    splitmix64(splitmix64(seed ^ splitmix64(n)) ^ purpose.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A uniform float in `[0, 1)` for (seed, request number, purpose).
pub(crate) fn unit(seed: u64, n: u64, purpose: u64) -> f64 {
    (draw(seed, n, purpose) >> 11) as f64 / (1u64 << 53) as f64
}

/// A UUID-shaped (version 4 layout) id, used for correlation ids.
pub(crate) fn uuid(seed: u64, n: u64, purpose: u64) -> String {
    let a = draw(seed, n, purpose);
    let b = draw(seed, n, purpose ^ 0x5555);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_changes_the_draw() {
        assert_ne!(draw(7, 3, 1), draw(8, 3, 1));
        assert_ne!(draw(7, 3, 1), draw(7, 4, 1));
        assert_ne!(draw(7, 3, 1), draw(7, 3, 2));
    }

    #[test]
    fn unit_is_in_range_and_roughly_uniform() {
        let hits = (0..10_000).filter(|&n| unit(1, n, 9) < 0.25).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }

    #[test]
    fn uuid_has_the_usual_shape() {
        let u = uuid(1, 2, 3);
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_eq!(u.split('-').count(), 5);
    }
}

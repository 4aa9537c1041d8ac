//! The pure core: the maturity ladder of SPEC §5 and the target math of SPEC §4.2,
//! computed from values and an instant handed in. No clock, no I/O, no async, no SDK.

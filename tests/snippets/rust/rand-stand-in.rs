// A stand-in for the `rand` crate, which is not a dependency here: only what the lessons call.
// The snippet tests compile it after the snippet; nothing runs it.
mod rand {
    /// `rand::random`: a value of `T` (here its default, since nothing runs it).
    pub fn random<T: Default>() -> T {
        T::default()
    }
}

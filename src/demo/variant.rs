//! A demo's variants as a typed enum: declared once with [`variants!`](crate::demo::variants!),
//! which gives both the `VariantSpec` table the command line, the app and lessons read by name,
//! and the enum the demo matches on exhaustively.

use super::VariantSpec;

/// A demo's variants. `ALL[i]` is the variant `SPECS[i]` describes.
pub trait DemoVariant: Copy + PartialEq + Send + 'static {
    const ALL: &'static [Self];
    const SPECS: &'static [VariantSpec];

    /// This variant's declaration.
    fn spec(self) -> &'static VariantSpec;

    /// The variant called `name`, if the demo has one.
    fn parse(name: &str) -> Option<Self> {
        let i = Self::SPECS.iter().position(|v| v.name == name)?;
        Self::ALL.get(i).copied()
    }
}

/// Declare a demo's variants: one line per variant, `Name => <a const VariantSpec>,`. Generates
/// the enum, its [`DemoVariant`] impl and a `const fn name(self)`, so a `DemoSpec` can list its
/// default variants by enum value.
///
/// ```
/// use asyncdojo::demo::{VariantSpec, variant::DemoVariant};
///
/// asyncdojo::demo::variants! {
///     pub enum Variant {
///         Sequential => VariantSpec::single("sequential", "one after another"),
///         JoinAll => VariantSpec::single("join-all", "all at once"),
///     }
/// }
/// assert_eq!(Variant::parse("join-all"), Some(Variant::JoinAll));
/// assert_eq!(Variant::parse("fast"), None);
/// assert_eq!(Variant::Sequential.name(), "sequential");
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __demo_variants {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$v_meta:meta])* $variant:ident => $spec:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$v_meta])* $variant, )+
        }

        impl $crate::demo::variant::DemoVariant for $name {
            const ALL: &'static [Self] = &[ $( $name::$variant, )+ ];
            const SPECS: &'static [$crate::demo::VariantSpec] = &[ $( $spec, )+ ];

            fn spec(self) -> &'static $crate::demo::VariantSpec {
                &<Self as $crate::demo::variant::DemoVariant>::SPECS[self as usize]
            }
        }

        impl $name {
            /// The name the command line, the app and lessons use.
            #[allow(dead_code)]
            pub const fn name(self) -> &'static str {
                <Self as $crate::demo::variant::DemoVariant>::SPECS[self as usize].name
            }
        }
    };
}

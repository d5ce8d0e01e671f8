//! Injected misbehaviour, queued: each fault applies to the next `times` requests it matches, in queue order.
//!
//! A simulator declares its `Fault` enum with [`faults!`](crate::faults!): the kinds every simulator has
//! (`status`, `delay`, `html`) and its own, each with a `times` (0 counts as 1, default 1). JSON is tagged by
//! `kind`, camelCase: `{"kind":"status","target":…,"status":503,"retryAfterSecs":7,"times":2}`,
//! `{"kind":"delay","target":…,"millis":300}`, `{"kind":"html","target":…,"status":502}` (`status` default 200).

use std::collections::VecDeque;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::Locked;

/// A fault's `target`: the requests a fault applies to.
pub trait Target: Copy {
    /// What the simulator knows of a request about to be handled.
    type Request: Copy;

    fn matches(self, request: Self::Request) -> bool;
}

/// A simulator's `Fault` enum, as [`faults!`](crate::faults!) declares it.
pub trait Queued: Clone + DeserializeOwned + Send + Sync + 'static {
    /// What the simulator knows of a request about to be handled.
    type Request: Copy;
    /// The simulator's own kinds of fault, without their `times`.
    type Own;

    fn matches(&self, request: Self::Request) -> bool;

    /// How many more requests the fault applies to.
    fn times_mut(&mut self) -> &mut u32;

    fn into_kind(self) -> FaultKind<Self::Own>;
}

/// What a queued fault asks, without its target and `times`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind<X> {
    Status {
        status: u16,
        retry_after_secs: Option<u64>,
    },
    Delay {
        millis: u64,
    },
    Html {
        status: u16,
    },
    Own(X),
}

/// What a due fault asks of the handler once any delay has been waited out: an answer instead of handling the
/// request ([`Due::Status`], [`Due::Html`]) or the simulator's own kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due<X> {
    /// Answer `status` with the endpoint's error body, `Retry-After` as the simulator documents.
    Status {
        status: u16,
        retry_after_secs: Option<u64>,
    },
    /// Answer `status` with an HTML page.
    Html {
        status: u16,
    },
    Own(X),
}

/// No kinds of fault of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoOwnFault {}

/// The queue of a simulator's faults.
pub struct Faults<F>(Locked<VecDeque<F>>);

impl<F> Default for Faults<F> {
    fn default() -> Self {
        Faults(Locked::new(VecDeque::new()))
    }
}

impl<F: Queued> Faults<F> {
    /// Queue `fault` behind those already queued.
    pub fn push(&self, fault: F) {
        self.0.lock().push_back(fault);
    }

    pub fn clear(&self) {
        self.0.lock().clear();
    }

    /// Use up one application of the first queued fault that matches `request`.
    pub fn take(&self, request: F::Request) -> Option<F> {
        let mut queue = self.0.lock();
        let index = queue.iter().position(|f| f.matches(request))?;
        let times = queue[index].times_mut();
        if *times > 1 {
            *times -= 1;
            Some(queue[index].clone())
        } else {
            queue.remove(index)
        }
    }

    /// Apply the fault due for `request`, if any: a delay is waited out here (the request is then handled as
    /// usual); any other fault is handed back.
    pub async fn due(&self, request: F::Request) -> Option<Due<F::Own>> {
        match self.take(request)?.into_kind() {
            FaultKind::Status {
                status,
                retry_after_secs,
            } => Some(Due::Status {
                status,
                retry_after_secs,
            }),
            FaultKind::Delay { millis } => {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                None
            }
            FaultKind::Html { status } => Some(Due::Html { status }),
            FaultKind::Own(own) => Some(Due::Own(own)),
        }
    }
}

/// The default of `times`: a fault applies once.
pub fn once() -> u32 {
    1
}

/// The default `status` of an html fault.
pub fn ok() -> u16 {
    200
}

/// The requests no fault of a simulator's own applies to, for a simulator without such faults.
pub fn no_request<R>(_: R) -> bool {
    false
}

/// Declares a simulator's `Fault` enum: `Status`, `Delay` and `Html`, each with a `target` of the given
/// [`Target`] type, then the simulator's own kinds, each given a `times`. The own kinds also make up an enum of
/// their own, without `times`, for [`Due::Own`]; the function after `matching` says which requests they apply to.
///
/// ```ignore
/// sim_kit::faults! {
///     /// One queued fault.
///     pub enum Fault for FaultTarget, own CreateFault matching RequestKind::is_create {
///         /// Store the record, then hold the answer.
///         LoseCreateResponse { hold_millis: u64 },
///     }
/// }
/// ```
#[macro_export]
macro_rules! faults {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $target:ty {}
    ) => {
        $crate::faults! { @enum $(#[$meta])* $vis enum $name for $target {} }
        $crate::faults! {
            @queued $name for $target, own ($crate::NoOwnFault) NoOwnFault matching $crate::no_request {}
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $target:ty, own $own_name:ident matching $own_matches:path {
            $(
                $(#[$own_meta:meta])*
                $own:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty ),* $(,)? }
            ),* $(,)?
        }
    ) => {
        $crate::faults! {
            @enum $(#[$meta])* $vis enum $name for $target {
                $( $(#[$own_meta])* $own { $( $(#[$field_meta])* $field: $ty, )* } )*
            }
        }
        $crate::faults! {
            @queued $name for $target, own ($own_name) $own_name matching $own_matches {
                $( $own { $( $field ),* } )*
            }
        }
        /// A fault of this simulator's own kinds, as due: without its `times`.
        #[derive(Clone, Debug, PartialEq, Eq)]
        $vis enum $own_name {
            $( $(#[$own_meta])* $own { $( $field: $ty, )* }, )*
        }
    };
    (
        @enum $(#[$meta:meta])* $vis:vis enum $name:ident for $target:ty {
            $( $(#[$own_meta:meta])* $own:ident { $( $(#[$field_meta:meta])* $field:ident : $ty:ty, )* } )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
        $vis enum $name {
            /// Answer with `status` and the endpoint's own error body; `Retry-After` is `retry_after_secs`, and a
            /// 429 always carries one.
            Status {
                target: $target,
                status: u16,
                #[serde(default)]
                retry_after_secs: Option<u64>,
                #[serde(default = "sim_kit::once")]
                times: u32,
            },
            /// Answer normally, but only after `millis`.
            Delay {
                target: $target,
                millis: u64,
                #[serde(default = "sim_kit::once")]
                times: u32,
            },
            /// Answer with `status` (default 200) and an HTML page instead of handling the request.
            Html {
                target: $target,
                #[serde(default = "sim_kit::ok")]
                status: u16,
                #[serde(default = "sim_kit::once")]
                times: u32,
            },
            $(
                $(#[$own_meta])*
                $own {
                    $( $(#[$field_meta])* $field: $ty, )*
                    #[serde(default = "sim_kit::once")]
                    times: u32,
                },
            )*
        }

        impl $name {
            /// A `status` fault for the next request to `target`, without `Retry-After` (but on a 429).
            pub fn status(target: $target, status: u16) -> Self {
                $name::Status { target, status, retry_after_secs: None, times: 1 }
            }

            /// A `delay` fault of `millis` for the next request to `target`.
            pub fn delay(target: $target, millis: u64) -> Self {
                $name::Delay { target, millis, times: 1 }
            }

            /// An `html` fault with `status` for the next request to `target`.
            pub fn html(target: $target, status: u16) -> Self {
                $name::Html { target, status, times: 1 }
            }

            /// The same fault for the next `times` requests it matches.
            pub fn times(mut self, times: u32) -> Self {
                *$crate::Queued::times_mut(&mut self) = times;
                self
            }
        }
    };
    (
        @queued $name:ident for $target:ty, own ($($own_type:tt)+) $own_name:ident matching $own_matches:path {
            $( $own:ident { $( $field:ident ),* } )*
        }
    ) => {
        impl $crate::Queued for $name {
            type Request = <$target as $crate::Target>::Request;
            type Own = $($own_type)+;

            fn matches(&self, request: Self::Request) -> bool {
                match self {
                    $name::Status { target, .. }
                    | $name::Delay { target, .. }
                    | $name::Html { target, .. } => $crate::Target::matches(*target, request),
                    #[allow(unreachable_patterns)]
                    _ => $own_matches(request),
                }
            }

            fn times_mut(&mut self) -> &mut u32 {
                match self {
                    $name::Status { times, .. }
                    | $name::Delay { times, .. }
                    | $name::Html { times, .. } => times,
                    $( $name::$own { times, .. } => times, )*
                }
            }

            fn into_kind(self) -> $crate::FaultKind<Self::Own> {
                match self {
                    $name::Status { status, retry_after_secs, .. } => {
                        $crate::FaultKind::Status { status, retry_after_secs }
                    }
                    $name::Delay { millis, .. } => $crate::FaultKind::Delay { millis },
                    $name::Html { status, .. } => $crate::FaultKind::Html { status },
                    $( $name::$own { $( $field, )* .. } => {
                        $crate::FaultKind::Own($own_name::$own { $( $field ),* })
                    } )*
                }
            }
        }
    };
}

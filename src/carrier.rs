//! The simulated carrier behind the phone-number inventory: which numbers SearchAvailablePhoneNumbers
//! offers, and what country and type a number is.
//!
//! The carrier is deterministic (the same search always offers the same numbers, less those the
//! AWS account already holds) and offers only numbers set aside for fiction, so that nothing
//! Belfry hands out can ring a real phone:
//!
//! * **US, local**: `+1 NPA 555 0100` to `+1 NPA 555 0199` in the area code asked for (or the
//!   area codes of the city or state asked for). NANPA reserves 555-0100 through 555-0199 in
//!   every geographic area code for fictional use.
//! * **US, toll-free**: `+1 8XX 555 0100` to `0199` for the toll-free prefix asked for. NANPA
//!   reserves no fictional range in the toll-free codes; Belfry uses the same 555-01XX lines by
//!   analogy, and these are the one range here that is not formally reserved.
//! * **GB, local**: `+44 1632 960000` to `960999`; **GB, toll-free**: `+44 808 157 0000` to
//!   `0999`: Ofcom's ranges for drama (TV, radio and film) use.
//!
//! An order may also name numbers outside these ranges (a test's own numbers, numbers brought by
//! an import): the carrier takes any well-formed US (`+1`) or GB (`+44`) number as given.

use crate::model::{PhoneNumberProductType, PhoneNumberType};

/// The US toll-free prefixes (the model's `TollFreePrefix` pattern).
pub const TOLL_FREE_PREFIXES: [&str; 7] = ["800", "833", "844", "855", "866", "877", "888"];

/// The cities the carrier knows, with their state and area codes. A state's area codes are those
/// of its cities here; a city or state not listed has no numbers.
const CITIES: &[(&str, &str, &[&str])] = &[
    ("WA", "Seattle", &["206"]),
    ("WA", "Tacoma", &["253"]),
    ("WA", "Olympia", &["360"]),
    ("WA", "Bellevue", &["425"]),
    ("WA", "Spokane", &["509"]),
    ("OR", "Portland", &["503", "971"]),
    ("CA", "San Francisco", &["415", "628"]),
    ("CA", "Los Angeles", &["213", "310", "323"]),
    ("CA", "San Diego", &["619", "858"]),
    ("CA", "San Jose", &["408", "669"]),
    ("NY", "New York", &["212", "332", "646", "917"]),
    ("IL", "Chicago", &["312", "773", "872"]),
    ("TX", "Austin", &["512", "737"]),
    ("TX", "Houston", &["281", "713", "832"]),
    ("TX", "Dallas", &["214", "469", "972"]),
    ("MA", "Boston", &["617", "857"]),
    ("DC", "Washington", &["202"]),
    ("FL", "Miami", &["305", "786"]),
    ("CO", "Denver", &["303", "720"]),
    ("GA", "Atlanta", &["404", "470", "678"]),
];

/// What a search asks for (SearchAvailablePhoneNumbers' query, already checked against the
/// model's shapes).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub area_code: Option<String>,
    pub city: Option<String>,
    /// `US` when absent.
    pub country: Option<String>,
    pub state: Option<String>,
    pub toll_free_prefix: Option<String>,
    pub number_type: Option<PhoneNumberType>,
}

/// A search the service's rules refuse, as (member, rule) for a validation message.
pub type Refusal = (&'static str, &'static str);

/// Whether `code` is a geographic NANP area code: `NXX` with N 2-9, not `N11`, not `N9X`.
fn is_area_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 3
        && b.iter().all(u8::is_ascii_digit)
        && (b'2'..=b'9').contains(&b[0])
        && b[1] != b'9'
        && !(b[1] == b'1' && b[2] == b'1')
        && !TOLL_FREE_PREFIXES.contains(&code)
}

/// The 100 fictional lines of a US area code or toll-free prefix, in order.
fn us_lines(npa: &str) -> impl Iterator<Item = String> + '_ {
    (100..200).map(move |line| format!("+1{npa}5550{line}"))
}

/// Every number the carrier offers for `search`, in E.164 order, or why the search is refused.
/// The service's rules (its documentation of SearchAvailablePhoneNumbers): a US search names an
/// area code, city, state or toll-free prefix; a city needs its state; outside the US only the
/// phone number type may be given, and must be.
pub fn offered(search: &Search) -> Result<Vec<String>, Refusal> {
    match search.country.as_deref().unwrap_or("US") {
        "US" => offered_us(search),
        "GB" => {
            if search.area_code.is_some()
                || search.city.is_some()
                || search.state.is_some()
                || search.toll_free_prefix.is_some()
            {
                return Err((
                    "country",
                    "Numbers outside the US only support the PhoneNumberType filter",
                ));
            }
            let (prefix, count) = match search.number_type {
                Some(PhoneNumberType::Local) => ("+441632960", 1000),
                Some(PhoneNumberType::TollFree) => ("+448081570", 1000),
                None => {
                    return Err((
                        "phoneNumberType",
                        "Member is required for numbers outside the US",
                    ));
                }
            };
            Ok((0..count).map(|n| format!("{prefix}{n:03}")).collect())
        }
        _ => Err((
            "country",
            "Member must be a country this server offers numbers in: [US, GB]",
        )),
    }
}

fn offered_us(search: &Search) -> Result<Vec<String>, Refusal> {
    let local = search.area_code.is_some() || search.city.is_some() || search.state.is_some();
    if search.city.is_some() && search.state.is_none() {
        return Err(("state", "Member is required when city is given"));
    }
    if let Some(prefix) = &search.toll_free_prefix {
        if local {
            return Err((
                "tollFreePrefix",
                "Member cannot be combined with areaCode, city or state",
            ));
        }
        if search.number_type == Some(PhoneNumberType::Local) {
            return Err((
                "phoneNumberType",
                "Member must be TollFree with tollFreePrefix",
            ));
        }
        return Ok(us_lines(prefix).collect());
    }
    if !local {
        return Err((
            "areaCode",
            "One of areaCode, city, state or tollFreePrefix is required for US numbers",
        ));
    }
    if search.number_type == Some(PhoneNumberType::TollFree) {
        return Err((
            "phoneNumberType",
            "Member must be Local with areaCode, city or state",
        ));
    }
    if let Some(code) = &search.area_code
        && !is_area_code(code)
    {
        return Err(("areaCode", "Member must be a US geographic area code (NXX)"));
    }
    let mut codes: Vec<&str> = match &search.state {
        None => vec![],
        Some(state) => CITIES
            .iter()
            .filter(|(s, city, _)| {
                s.eq_ignore_ascii_case(state)
                    && search
                        .city
                        .as_deref()
                        .is_none_or(|c| city.eq_ignore_ascii_case(c.trim()))
            })
            .flat_map(|(_, _, codes)| codes.iter().copied())
            .collect(),
    };
    match (&search.area_code, search.state.is_some()) {
        (Some(code), true) => codes.retain(|c| c == code),
        (Some(code), false) => codes.push(code),
        (None, _) => {}
    }
    codes.sort_unstable();
    codes.dedup();
    Ok(codes.into_iter().flat_map(us_lines).collect())
}

/// A number's country (ISO alpha-2) and type, for the countries the carrier serves (a US number
/// has 10 digits after `+1`, a GB number 9 or 10 after `+44`); `None` for any other.
pub fn classify(e164: &str) -> Option<(&'static str, PhoneNumberType)> {
    let digits = e164.len().saturating_sub(1);
    if let Some(national) = e164.strip_prefix("+1")
        && digits == 11
    {
        let toll_free = TOLL_FREE_PREFIXES.iter().any(|p| national.starts_with(p));
        Some((
            "US",
            if toll_free {
                PhoneNumberType::TollFree
            } else {
                PhoneNumberType::Local
            },
        ))
    } else if let Some(national) = e164.strip_prefix("+44")
        && (11..=12).contains(&digits)
    {
        let toll_free = national.starts_with("800") || national.starts_with("808");
        Some((
            "GB",
            if toll_free {
                PhoneNumberType::TollFree
            } else {
                PhoneNumberType::Local
            },
        ))
    } else {
        None
    }
}

/// [`classify`] for a number already held (brought by an import or an earlier release): a
/// country the carrier does not serve is `ZZ` (ISO's user-assigned "unknown"), a local number.
pub fn classify_held(e164: &str) -> (&'static str, PhoneNumberType) {
    classify(e164).unwrap_or(("ZZ", PhoneNumberType::Local))
}

/// The countries and number types a product can be ordered in (ListSupportedPhoneNumberCountries).
/// The service's rules: Business Calling is US only and never toll-free; outside the US only the
/// SIP Media Application Dial-In product.
pub fn countries(product: PhoneNumberProductType) -> Vec<(&'static str, Vec<PhoneNumberType>)> {
    match product {
        PhoneNumberProductType::BusinessCalling => vec![("US", vec![PhoneNumberType::Local])],
        PhoneNumberProductType::VoiceConnector => vec![(
            "US",
            vec![PhoneNumberType::Local, PhoneNumberType::TollFree],
        )],
        PhoneNumberProductType::SipMediaApplicationDialIn => vec![
            (
                "US",
                vec![PhoneNumberType::Local, PhoneNumberType::TollFree],
            ),
            (
                "GB",
                vec![PhoneNumberType::Local, PhoneNumberType::TollFree],
            ),
        ],
    }
}

/// Whether a number of `country` and `kind` can have the product `product` (ordered, or
/// changed by UpdatePhoneNumber).
pub fn product_allows(
    product: PhoneNumberProductType,
    country: &str,
    kind: PhoneNumberType,
) -> bool {
    countries(product)
        .iter()
        .any(|(c, kinds)| *c == country && kinds.contains(&kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(area: Option<&str>, city: Option<&str>, state: Option<&str>) -> Search {
        Search {
            area_code: area.map(str::to_string),
            city: city.map(str::to_string),
            state: state.map(str::to_string),
            ..Search::default()
        }
    }

    #[test]
    fn an_area_code_offers_its_fictional_lines() {
        let numbers = offered(&us(Some("206"), None, None)).unwrap();
        assert_eq!(numbers.len(), 100);
        assert_eq!(numbers[0], "+12065550100");
        assert_eq!(numbers[99], "+12065550199");
        assert!(numbers.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn cities_and_states_offer_their_area_codes() {
        let seattle = offered(&us(None, Some("seattle"), Some("WA"))).unwrap();
        assert_eq!(seattle, offered(&us(Some("206"), None, None)).unwrap());
        let wa = offered(&us(None, None, Some("WA"))).unwrap();
        assert_eq!(wa.len(), 500);
        assert_eq!(
            offered(&us(Some("206"), None, Some("TX"))).unwrap(),
            Vec::<String>::new()
        );
        assert!(offered(&us(None, Some("Seattle"), None)).is_err());
        assert!(offered(&us(Some("911"), None, None)).is_err());
        assert!(offered(&us(Some("800"), None, None)).is_err());
        assert!(offered(&us(None, None, None)).is_err());
    }

    #[test]
    fn toll_free_and_other_countries() {
        let s = Search {
            toll_free_prefix: Some("888".into()),
            ..Search::default()
        };
        assert_eq!(offered(&s).unwrap()[0], "+18885550100");
        let gb = Search {
            country: Some("GB".into()),
            number_type: Some(PhoneNumberType::Local),
            ..Search::default()
        };
        assert_eq!(offered(&gb).unwrap()[0], "+441632960000");
        let gb_area = Search {
            area_code: Some("206".into()),
            ..gb.clone()
        };
        assert!(offered(&gb_area).is_err());
        assert_eq!(
            classify("+18005550100"),
            Some(("US", PhoneNumberType::TollFree))
        );
        assert_eq!(
            classify("+12065550100"),
            Some(("US", PhoneNumberType::Local))
        );
        assert_eq!(
            classify("+448081570000"),
            Some(("GB", PhoneNumberType::TollFree))
        );
        assert_eq!(classify("+33123456789"), None);
        assert_eq!(classify("+12"), None);
        assert_eq!(classify("+123456789012345"), None);
        assert!(!product_allows(
            PhoneNumberProductType::BusinessCalling,
            "US",
            PhoneNumberType::TollFree
        ));
        assert!(!product_allows(
            PhoneNumberProductType::VoiceConnector,
            "GB",
            PhoneNumberType::Local
        ));
        assert!(product_allows(
            PhoneNumberProductType::SipMediaApplicationDialIn,
            "GB",
            PhoneNumberType::Local
        ));
    }
}

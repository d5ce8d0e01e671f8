//! `sysparm_query`: the encoded query of a list read. The operators a connector needs to find and page through its
//! tickets, joined by `^` (AND), queries joined by `^NQ` (OR of whole queries, ServiceNow's "new query"), and
//! `ORDERBY` / `ORDERBYDESC` terms (which order the whole result, wherever they stand).
//!
//! Values compare as text. That is right for plain strings and for ServiceNow's date-time text (`YYYY-MM-DD
//! HH:MM:SS`, which sorts as it reads), though not for numbers of different lengths.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::state::Record;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// Longest spelling first, so that `>=` is not read as `>` followed by a value starting with `=`.
const OPERATORS: [(&str, Operator); 6] = [
    ("!=", Operator::NotEqual),
    (">=", Operator::GreaterOrEqual),
    ("<=", Operator::LessOrEqual),
    ("=", Operator::Equal),
    (">", Operator::Greater),
    ("<", Operator::Less),
];

#[derive(Debug, PartialEq, Eq)]
struct Condition<'q> {
    field: &'q str,
    operator: Operator,
    value: &'q str,
}

#[derive(Debug, PartialEq, Eq)]
struct Order<'q> {
    field: &'q str,
    descending: bool,
}

/// A parsed `sysparm_query`: one or more queries (`^NQ` between them), each a list of conditions that all hold.
/// Terms of any other form (`LIKE`, `IN`, `^OR`, …) are ignored, so they match everything.
#[derive(Debug, Default)]
pub(crate) struct EncodedQuery<'q> {
    queries: Vec<Vec<Condition<'q>>>,
    order: Vec<Order<'q>>,
}

impl<'q> EncodedQuery<'q> {
    pub fn parse(query: &'q str) -> Self {
        let mut parsed = EncodedQuery::default();
        for part in query.split("^NQ") {
            parsed.queries.push(Vec::new());
            parsed.parse_part(part);
        }
        parsed
    }

    fn parse_part(&mut self, part: &'q str) {
        let conditions = self.queries.last_mut().expect("a query was just opened");
        for term in part.split('^') {
            if let Some(field) = term.strip_prefix("ORDERBYDESC") {
                self.order.push(Order {
                    field,
                    descending: true,
                });
            } else if let Some(field) = term.strip_prefix("ORDERBY") {
                self.order.push(Order {
                    field,
                    descending: false,
                });
            } else if let Some(condition) = condition(term) {
                conditions.push(condition);
            }
        }
    }

    /// Whether `record` meets every condition of one of the queries. A condition on a field the table does not know
    /// is dropped, so it matches every row: ServiceNow does this too.
    pub fn matches(&self, record: &Record, known: &BTreeSet<String>) -> bool {
        self.queries
            .iter()
            .any(|conditions| Self::all_hold(conditions, record, known))
    }

    fn all_hold(conditions: &[Condition<'_>], record: &Record, known: &BTreeSet<String>) -> bool {
        conditions.iter().all(|condition| {
            if !known.contains(condition.field) {
                return true;
            }
            let ordering = text(record, condition.field).cmp(condition.value);
            match condition.operator {
                Operator::Equal => ordering == Ordering::Equal,
                Operator::NotEqual => ordering != Ordering::Equal,
                Operator::Greater => ordering == Ordering::Greater,
                Operator::GreaterOrEqual => ordering != Ordering::Less,
                Operator::Less => ordering == Ordering::Less,
                Operator::LessOrEqual => ordering != Ordering::Greater,
            }
        })
    }

    /// Sort by the `ORDERBY` terms, the first one first; ties (and no terms) keep the given order, which is creation
    /// order. Terms on unknown fields are ignored.
    pub fn sort(&self, records: &mut [&Record], known: &BTreeSet<String>) {
        let order: Vec<&Order> = self
            .order
            .iter()
            .filter(|order| known.contains(order.field))
            .collect();
        records.sort_by(|a, b| {
            order
                .iter()
                .map(|order| {
                    let ordering = text(a, order.field).cmp(text(b, order.field));
                    if order.descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        });
    }
}

/// A field's stored text; a field the record lacks reads as empty.
fn text<'r>(record: &'r Record, field: &str) -> &'r str {
    record.get(field).map_or("", String::as_str)
}

/// `field<op>value`, the operator being the first of `!=<>` in the term.
fn condition(term: &str) -> Option<Condition<'_>> {
    let at = term.find(['!', '=', '<', '>'])?;
    let (field, rest) = term.split_at(at);
    let (spelling, operator) = OPERATORS
        .iter()
        .find(|(spelling, _)| rest.starts_with(spelling))?;
    Some(Condition {
        field,
        operator: *operator,
        value: &rest[spelling.len()..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_into_conditions_and_order() {
        let query = EncodedQuery::parse(
            "active=true^sys_created_on>=2024-01-01 00:00:00^number!=INC1^a>b=c^u<=x^ORDERBYDESCnumber^ORDERBYstate^short_descriptionLIKEx",
        );
        let spelt: Vec<(&str, Operator, &str)> = query.queries[0]
            .iter()
            .map(|c| (c.field, c.operator, c.value))
            .collect();
        assert_eq!(
            spelt,
            [
                ("active", Operator::Equal, "true"),
                (
                    "sys_created_on",
                    Operator::GreaterOrEqual,
                    "2024-01-01 00:00:00"
                ),
                ("number", Operator::NotEqual, "INC1"),
                ("a", Operator::Greater, "b=c"),
                ("u", Operator::LessOrEqual, "x"),
            ]
        );
        assert_eq!(
            query.order,
            [
                Order {
                    field: "number",
                    descending: true
                },
                Order {
                    field: "state",
                    descending: false
                }
            ]
        );
    }

    #[test]
    fn new_queries_are_alternatives_ordered_together() {
        let query = EncodedQuery::parse("a>2^NQa=2^b>x^ORDERBYa^ORDERBYb");
        let known: BTreeSet<String> = ["a", "b"].map(String::from).into();
        let record = |a: &str, b: &str| {
            Record::from([
                ("a".to_owned(), a.to_owned()),
                ("b".to_owned(), b.to_owned()),
            ])
        };
        let rows = [
            record("3", "a"),
            record("2", "y"),
            record("2", "w"),
            record("1", "z"),
        ];
        let matched: Vec<&Record> = rows.iter().filter(|r| query.matches(r, &known)).collect();
        assert_eq!(matched.len(), 2, "a>2, or a=2 with b>x");
        let mut ordered = matched;
        query.sort(&mut ordered, &known);
        assert_eq!(ordered[0]["a"], "2");
        assert_eq!(ordered[1]["a"], "3");
    }

    #[test]
    fn a_lone_bang_is_no_operator() {
        assert_eq!(condition("a!b"), None);
        assert_eq!(condition("nothing"), None);
    }
}

//! Software categories (reference §3.8, the guide's software dictionary): the categories,
//! their rules, and the link giving a (name, publisher, version) triple its category. A
//! triple without a link is in NEW. Links chosen by an administrator are `manual` and the
//! rules never change them; rule links are written at ingestion for a computer's triples that
//! have none, and rewritten when the rules are re-applied to the fleet. Deciding which rule
//! matches is not done here.

use crate::hosts::like_pattern;
use crate::software_fleet::{limit_clause, Bind, Binds, ROW_CATEGORY};
use crate::{HostId, Page, Result, Store, StoreError, WriteTx};

/// The built-in category of software no rule or administrator placed (also: no link).
pub const NEW_CATEGORY: i64 = 1;
/// The built-in category hidden from computer pages and counts.
pub const IGNORED_CATEGORY: i64 = 2;
/// The built-in category the guide uses for software left as it is.
pub const UNCHANGED_CATEGORY: i64 = 3;

/// Links written per statement (three IDs and a category each).
const LINKS_PER_STATEMENT: usize = 200;

/// A category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Row ID.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// `ALL`, or the operating system family its rules apply to.
    pub os: String,
    /// NEW, IGNORED and UNCHANGED cannot be deleted.
    pub builtin: bool,
    /// Its rules.
    pub rules: i64,
}

/// A rule: software whose name matches `pattern` (and publisher, and version compared with
/// `sign_version`) goes to `category_id`; of several matching rules the highest position wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRule {
    /// Row ID.
    pub id: i64,
    /// Category it places software in.
    pub category_id: i64,
    /// Order among rules.
    pub position: i64,
    /// Wildcard pattern on the name.
    pub pattern: String,
    /// `EQUAL`, `LESS` or `MORE`, with `version`.
    pub sign_version: Option<String>,
    /// Version compared.
    pub version: Option<String>,
    /// Wildcard pattern on the publisher.
    pub publisher: Option<String>,
}

/// A rule to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule<'a> {
    /// Category it places software in.
    pub category_id: i64,
    /// Wildcard pattern on the name.
    pub pattern: &'a str,
    /// `EQUAL`, `LESS` or `MORE`.
    pub sign_version: Option<&'a str>,
    /// Version compared.
    pub version: Option<&'a str>,
    /// Wildcard pattern on the publisher.
    pub publisher: Option<&'a str>,
}

/// A (name, publisher, version) triple of the dictionaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Triple {
    /// Name ID.
    pub name_id: i64,
    /// Publisher ID.
    pub publisher_id: i64,
    /// Version ID.
    pub version_id: i64,
}

/// A triple with its text, as rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripleText {
    /// The IDs.
    pub triple: Triple,
    /// Name.
    pub name: String,
    /// Publisher.
    pub publisher: String,
    /// Version.
    pub version: String,
    /// Operating system of a computer that has it.
    pub osname: Option<String>,
    /// Agent of that computer.
    pub useragent: Option<String>,
    /// Its link's category, if any.
    pub category_id: Option<i64>,
    /// Whether its link is an administrator's.
    pub manual: bool,
}

/// A row of the dictionary: one triple installed somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictionaryRow {
    /// The IDs.
    pub triple: Triple,
    /// Name.
    pub name: String,
    /// Publisher.
    pub publisher: String,
    /// Version.
    pub version: String,
    /// Category ID.
    pub category_id: i64,
    /// Category name.
    pub category: String,
    /// Whether an administrator chose it.
    pub manual: bool,
    /// Distinct computers with it.
    pub computers: i64,
}

/// Which triples the dictionary shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DictionaryFilter {
    /// Text the name contains (case-insensitive; empty: any).
    pub text: String,
    /// Only this category (`None`: every one, IGNORED included).
    pub category: Option<i64>,
}

/// The counted triples a dictionary filter keeps, with their texts and category.
fn dictionary_from(filter: &DictionaryFilter, binds: &mut Binds) -> String {
    let mut cond = vec!["1 = 1".to_owned()];
    if !filter.text.is_empty() {
        let p = binds.push(Bind::Text(like_pattern(&filter.text)));
        cond.push(format!(
            "t.name_id IN (SELECT id FROM software_name WHERE LOWER(name) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(id) = filter.category {
        cond.push(format!("{ROW_CATEGORY} = {}", binds.push(Bind::Int(id))));
    }
    format!(
        "software_triple_counts t \
         LEFT JOIN software_category_links l ON l.name_id = t.name_id \
             AND l.publisher_id = t.publisher_id AND l.version_id = t.version_id \
         JOIN software_name n ON n.id = t.name_id \
         JOIN software_publisher p ON p.id = t.publisher_id \
         JOIN software_version v ON v.id = t.version_id \
         JOIN software_categories c ON c.id = {ROW_CATEGORY} WHERE {}",
        cond.join(" AND ")
    )
}

fn unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store {
    /// Every category, built-in ones first, with its number of rules.
    pub async fn software_categories(&self) -> Result<Vec<Category>> {
        let rows: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(
            "SELECT c.id, c.name, c.os, c.builtin, \
             (SELECT COUNT(*) FROM software_category_rules r WHERE r.category_id = c.id) \
             FROM software_categories c ORDER BY c.builtin DESC, c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Category {
                id: r.0,
                name: r.1,
                os: r.2,
                builtin: r.3 != 0,
                rules: r.4,
            })
            .collect())
    }

    /// Adds a category; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_software_category(&self, name: &str, os: &str) -> Result<i64> {
        let mut tx = self.begin().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM software_categories WHERE LOWER(name) = LOWER($1)")
                .bind(name)
                .fetch_optional(tx.conn())
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("category {name:?}")));
        }
        let id = sqlx::query_scalar(
            "INSERT INTO software_categories (name, os, builtin) VALUES ($1, $2, 0) RETURNING id",
        )
        .bind(name)
        .bind(os)
        .fetch_one(tx.conn())
        .await;
        let id: i64 = match id {
            Ok(id) => id,
            Err(e) if unique_violation(&e) => {
                return Err(StoreError::Conflict(format!("category {name:?}")))
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Sets the operating system family of a category's rules.
    pub async fn set_software_category_os(&self, id: i64, os: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE software_categories SET os = $1 WHERE id = $2")
            .bind(os)
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("category {id}")));
        }
        tx.commit().await
    }

    /// Deletes a category that is not built in, with its rules; its software goes back to
    /// NEW. `false` when there is no such deletable category.
    pub async fn delete_software_category(&self, id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Explicitly, not by cascade: SQLite enforces foreign keys only where enabled.
        for sql in [
            "DELETE FROM software_category_links WHERE category_id = $1 \
             AND EXISTS (SELECT 1 FROM software_categories WHERE id = $1 AND builtin = 0)",
            "DELETE FROM software_category_rules WHERE category_id = $1 \
             AND EXISTS (SELECT 1 FROM software_categories WHERE id = $1 AND builtin = 0)",
        ] {
            sqlx::query(sql).bind(id).execute(tx.conn()).await?;
        }
        let n = sqlx::query("DELETE FROM software_categories WHERE id = $1 AND builtin = 0")
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Every rule, in the order they are tried (the last matching one wins).
    pub async fn software_category_rules(&self) -> Result<Vec<CategoryRule>> {
        rules(&self.pool).await
    }

    /// Adds a rule after every other (so it wins over them); returns its ID.
    pub async fn add_software_category_rule(&self, rule: &NewRule<'_>) -> Result<i64> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM software_categories WHERE id = $1")
                .bind(rule.category_id)
                .fetch_optional(tx.conn())
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!(
                "category {}",
                rule.category_id
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO software_category_rules \
             (category_id, position, pattern, sign_version, version, publisher) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM software_category_rules), \
             $2, $3, $4, $5) RETURNING id",
        )
        .bind(rule.category_id)
        .bind(rule.pattern)
        .bind(rule.sign_version)
        .bind(rule.version)
        .bind(rule.publisher)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes a rule; `false` when there is none with that ID.
    pub async fn delete_software_category_rule(&self, id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM software_category_rules WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Swaps a rule with the one before it (`earlier`) or after it; `false` when it is
    /// already first or last, or does not exist.
    pub async fn move_software_category_rule(&self, id: i64, earlier: bool) -> Result<bool> {
        let mut tx = self.begin().await?;
        let all = rules(tx.conn()).await?;
        let Some(at) = all.iter().position(|r| r.id == id) else {
            return Ok(false);
        };
        let other = if earlier {
            at.checked_sub(1)
        } else {
            Some(at + 1).filter(|i| *i < all.len())
        };
        let Some(other) = other else {
            return Ok(false);
        };
        let (a, b) = (&all[at], &all[other]);
        for (rule, position) in [(a.id, b.position), (b.id, a.position)] {
            sqlx::query("UPDATE software_category_rules SET position = $1 WHERE id = $2")
                .bind(position)
                .bind(rule)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A page of the dictionary, by name, publisher and version: how many match, and the page.
    pub async fn software_dictionary(
        &self,
        filter: &DictionaryFilter,
        page: Option<Page>,
    ) -> Result<(i64, Vec<DictionaryRow>)> {
        let mut binds = Binds::default();
        let from = dictionary_from(filter, &mut binds);
        let total: i64 = binds
            .apply_as(sqlx::query_as::<_, (i64,)>(&format!(
                "SELECT COUNT(*) FROM {from}"
            )))
            .fetch_one(&self.read_pool)
            .await?
            .0;
        let limit = limit_clause(page);
        type Row = (i64, i64, i64, String, String, String, i64, String, i64, i64);
        let rows: Vec<Row> = binds
            .apply_as(sqlx::query_as(&format!(
                "SELECT t.name_id, t.publisher_id, t.version_id, n.name, p.publisher, \
                 v.version, c.id, c.name, COALESCE(l.manual, 0), t.computers FROM {from} \
                 ORDER BY LOWER(n.name), LOWER(p.publisher), v.version, t.name_id, \
                 t.publisher_id, t.version_id{limit}"
            )))
            .fetch_all(&self.read_pool)
            .await?;
        Ok((
            total,
            rows.into_iter()
                .map(|r| DictionaryRow {
                    triple: Triple {
                        name_id: r.0,
                        publisher_id: r.1,
                        version_id: r.2,
                    },
                    name: r.3,
                    publisher: r.4,
                    version: r.5,
                    category_id: r.6,
                    category: r.7,
                    manual: r.8 != 0,
                    computers: r.9,
                })
                .collect(),
        ))
    }

    /// Places triples in a category by an administrator's choice (the rules leave them
    /// there); returns how many links were written.
    pub async fn set_software_category(&self, triples: &[Triple], category_id: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM software_categories WHERE id = $1")
                .bind(category_id)
                .fetch_optional(tx.conn())
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("category {category_id}")));
        }
        let links: Vec<(Triple, i64)> = triples.iter().map(|t| (*t, category_id)).collect();
        let n = tx.write_links(&links, true).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The installed triples with a name ID in `(after, upto]`, each with a computer that has
    /// it (its OS and agent) and its link: one chunk of the rules' re-application.
    pub async fn triples_in_name_range(&self, after: i64, upto: i64) -> Result<Vec<TripleText>> {
        let rows: Vec<TripleTextRow> = sqlx::query_as(
            "SELECT t.name_id, t.publisher_id, t.version_id, n.name, p.publisher, v.version, \
             h.osname, h.useragent, l.category_id, l.manual FROM \
             (SELECT s.name_id, s.publisher_id, s.version_id, MIN(s.hardware_id) AS host \
              FROM software s WHERE s.name_id > $1 AND s.name_id <= $2 \
              GROUP BY s.name_id, s.publisher_id, s.version_id) t \
             JOIN software_name n ON n.id = t.name_id \
             JOIN software_publisher p ON p.id = t.publisher_id \
             JOIN software_version v ON v.id = t.version_id \
             LEFT JOIN hardware h ON h.id = t.host \
             LEFT JOIN software_category_links l ON l.name_id = t.name_id \
                 AND l.publisher_id = t.publisher_id AND l.version_id = t.version_id",
        )
        .bind(after)
        .bind(upto)
        .fetch_all(&self.read_pool)
        .await?;
        Ok(rows.into_iter().map(triple_text).collect())
    }

    /// The highest name ID of the dictionary (the re-application's end).
    pub async fn max_software_name_id(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM software_name")
                .fetch_one(&self.read_pool)
                .await?
                .unwrap_or(0),
        )
    }

    /// Applies the rules' decisions for some triples: `Some(category)` writes a rule link,
    /// `None` removes one; an administrator's link is never touched. Returns links changed.
    pub async fn apply_rule_links(&self, decisions: &[(Triple, Option<i64>)]) -> Result<u64> {
        let mut tx = self.begin().await?;
        let set: Vec<(Triple, i64)> = decisions
            .iter()
            .filter_map(|(t, c)| c.map(|c| (*t, c)))
            .collect();
        let mut n = tx.write_links(&set, false).await?;
        for (t, _) in decisions.iter().filter(|(_, c)| c.is_none()) {
            n += sqlx::query(
                "DELETE FROM software_category_links WHERE name_id = $1 AND publisher_id = $2 \
                 AND version_id = $3 AND manual = 0",
            )
            .bind(t.name_id)
            .bind(t.publisher_id)
            .bind(t.version_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// A triple read with its texts, the system of a computer that has it, and its link:
/// ids, name, publisher, version, OS name, user agent, category, manual.
type TripleTextRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn triple_text(r: TripleTextRow) -> TripleText {
    TripleText {
        triple: Triple {
            name_id: r.0,
            publisher_id: r.1,
            version_id: r.2,
        },
        name: r.3,
        publisher: r.4,
        version: r.5,
        osname: r.6,
        useragent: r.7,
        category_id: r.8,
        manual: r.9.unwrap_or(0) != 0,
    }
}

async fn rules<'e, E>(executor: E) -> Result<Vec<CategoryRule>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    type Row = (
        i64,
        i64,
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, category_id, position, pattern, sign_version, version, publisher \
         FROM software_category_rules ORDER BY position, id",
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CategoryRule {
            id: r.0,
            category_id: r.1,
            position: r.2,
            pattern: r.3,
            sign_version: r.4,
            version: r.5,
            publisher: r.6,
        })
        .collect())
}

impl WriteTx {
    /// The rules, read inside an inventory's transaction.
    pub async fn software_category_rules(&mut self) -> Result<Vec<CategoryRule>> {
        rules(self.conn()).await
    }

    /// Every category's ID with its operating system family (`ALL`: any).
    pub async fn software_category_systems(&mut self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, os FROM software_categories")
            .fetch_all(self.conn())
            .await?)
    }

    /// A computer's installed triples that have no link yet, with their text.
    pub async fn unlinked_software(&mut self, host: HostId) -> Result<Vec<TripleText>> {
        let rows: Vec<TripleTextRow> = sqlx::query_as(
            "SELECT DISTINCT s.name_id, s.publisher_id, s.version_id, n.name, p.publisher, \
             v.version, h.osname, h.useragent, l.category_id, l.manual FROM software s \
             JOIN hardware h ON h.id = s.hardware_id \
             JOIN software_name n ON n.id = s.name_id \
             JOIN software_publisher p ON p.id = s.publisher_id \
             JOIN software_version v ON v.id = s.version_id \
             LEFT JOIN software_category_links l ON l.name_id = s.name_id \
                 AND l.publisher_id = s.publisher_id AND l.version_id = s.version_id \
             WHERE s.hardware_id = $1 AND l.name_id IS NULL",
        )
        .bind(host.0)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(triple_text).collect())
    }

    /// Writes rule links for triples that have none (another inventory may have written one
    /// meanwhile: that one stays).
    pub async fn link_software_by_rules(&mut self, links: &[(Triple, i64)]) -> Result<u64> {
        let mut sorted = links.to_vec();
        // A fixed order: concurrent inventories on PostgreSQL never wait on each other in a cycle.
        sorted.sort_unstable();
        let mut n = 0;
        for chunk in sorted.chunks(LINKS_PER_STATEMENT) {
            let values = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(${}, ${}, ${}, ${}, 0)",
                        i * 4 + 1,
                        i * 4 + 2,
                        i * 4 + 3,
                        i * 4 + 4
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO software_category_links \
                 (name_id, publisher_id, version_id, category_id, manual) VALUES {values} \
                 ON CONFLICT (name_id, publisher_id, version_id) DO NOTHING"
            );
            let mut q = sqlx::query(&sql);
            for (t, c) in chunk {
                q = q
                    .bind(t.name_id)
                    .bind(t.publisher_id)
                    .bind(t.version_id)
                    .bind(*c);
            }
            n += q.execute(self.conn()).await?.rows_affected();
        }
        Ok(n)
    }

    /// Upserts links; `manual` ones replace anything, rule ones replace only rule ones.
    async fn write_links(&mut self, links: &[(Triple, i64)], manual: bool) -> Result<u64> {
        let mut sorted = links.to_vec();
        sorted.sort_unstable();
        sorted.dedup_by_key(|(t, _)| *t);
        let mut n = 0;
        for chunk in sorted.chunks(LINKS_PER_STATEMENT) {
            let values = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(${}, ${}, ${}, ${}, {})",
                        i * 4 + 1,
                        i * 4 + 2,
                        i * 4 + 3,
                        i * 4 + 4,
                        i64::from(manual)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let guard = if manual {
                ""
            } else {
                " WHERE software_category_links.manual = 0 \
                  AND software_category_links.category_id <> excluded.category_id"
            };
            let sql = format!(
                "INSERT INTO software_category_links \
                 (name_id, publisher_id, version_id, category_id, manual) VALUES {values} \
                 ON CONFLICT (name_id, publisher_id, version_id) DO UPDATE SET \
                 category_id = excluded.category_id, manual = excluded.manual{guard}"
            );
            let mut q = sqlx::query(&sql);
            for (t, c) in chunk {
                q = q
                    .bind(t.name_id)
                    .bind(t.publisher_id)
                    .bind(t.version_id)
                    .bind(*c);
            }
            n += q.execute(self.conn()).await?.rows_affected();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use ocs_proto::{catalogue, Value};

    use super::*;
    use crate::test_support::store;

    fn sw(name: &str, version: &str) -> Vec<Value> {
        catalogue::SOFTWARES
            .fields
            .iter()
            .map(|f| match f.name {
                "NAME" => Value::Text(name.into()),
                "VERSION" => Value::Text(version.into()),
                "PUBLISHER" => Value::Text("Acme".into()),
                _ => Value::Null,
            })
            .collect()
    }

    async fn triple(store: &Store, name: &str) -> Triple {
        let filter = DictionaryFilter {
            text: name.into(),
            category: None,
        };
        store.software_dictionary(&filter, None).await.unwrap().1[0].triple
    }

    async fn category_of(store: &Store, name: &str) -> (i64, bool) {
        let filter = DictionaryFilter {
            text: name.into(),
            category: None,
        };
        let row = &store.software_dictionary(&filter, None).await.unwrap().1[0];
        (row.category_id, row.manual)
    }

    #[tokio::test]
    async fn rule_links_never_replace_an_administrators_choice() {
        let (store, _dir) = store().await;
        let mut tx = store.begin().await.unwrap();
        let host = tx.insert_host("pc-2024-01-01-00-00-00").await.unwrap();
        tx.reconcile_software(host, &[sw("alpha", "1"), sw("beta", "2")])
            .await
            .unwrap();
        assert_eq!(tx.unlinked_software(host).await.unwrap().len(), 2);
        tx.commit().await.unwrap();
        store.refresh_software_counts(1).await.unwrap();
        let tools = store
            .create_software_category("Tools", "ALL")
            .await
            .unwrap();
        assert!(matches!(
            store.create_software_category("TOOLS", "ALL").await,
            Err(StoreError::Conflict(_))
        ));
        let (alpha, beta) = (triple(&store, "alpha").await, triple(&store, "beta").await);
        assert_eq!(
            store
                .set_software_category(&[beta], IGNORED_CATEGORY)
                .await
                .unwrap(),
            1
        );
        let n = store
            .apply_rule_links(&[(alpha, Some(tools)), (beta, Some(tools))])
            .await
            .unwrap();
        assert_eq!(n, 1, "only alpha");
        assert_eq!(category_of(&store, "alpha").await, (tools, false));
        assert_eq!(category_of(&store, "beta").await, (IGNORED_CATEGORY, true));
        let mut tx = store.begin().await.unwrap();
        assert!(tx.unlinked_software(host).await.unwrap().is_empty());
        tx.rollback().await.unwrap();
        // A rule's link goes when no rule wants it any more; the manual one stays.
        store
            .apply_rule_links(&[(alpha, None), (beta, None)])
            .await
            .unwrap();
        assert_eq!(category_of(&store, "alpha").await, (NEW_CATEGORY, false));
        assert_eq!(category_of(&store, "beta").await, (IGNORED_CATEGORY, true));

        // Deleting a category takes its links and rules; built-in ones stay.
        store.set_software_category(&[alpha], tools).await.unwrap();
        store
            .add_software_category_rule(&NewRule {
                category_id: tools,
                pattern: "a*",
                sign_version: None,
                version: None,
                publisher: None,
            })
            .await
            .unwrap();
        assert!(store.delete_software_category(tools).await.unwrap());
        assert_eq!(category_of(&store, "alpha").await, (NEW_CATEGORY, false));
        assert!(store.software_category_rules().await.unwrap().is_empty());
        assert!(!store
            .delete_software_category(IGNORED_CATEGORY)
            .await
            .unwrap());
        assert_eq!(category_of(&store, "beta").await, (IGNORED_CATEGORY, true));
    }

    #[tokio::test]
    async fn rules_keep_their_order_and_move_one_place_at_a_time() {
        let (store, _dir) = store().await;
        let add = |pattern: &'static str| {
            let store = &store;
            async move {
                store
                    .add_software_category_rule(&NewRule {
                        category_id: UNCHANGED_CATEGORY,
                        pattern,
                        sign_version: Some("MORE"),
                        version: Some("1.0"),
                        publisher: Some("Acme*"),
                    })
                    .await
                    .unwrap()
            }
        };
        let (a, b, c) = (add("a").await, add("b").await, add("c").await);
        let order = || async {
            let rules = store.software_category_rules().await.unwrap();
            rules.into_iter().map(|r| r.id).collect::<Vec<_>>()
        };
        assert_eq!(order().await, [a, b, c]);
        assert!(store.move_software_category_rule(c, true).await.unwrap());
        assert_eq!(order().await, [a, c, b]);
        assert!(
            !store.move_software_category_rule(a, true).await.unwrap(),
            "already first"
        );
        assert!(store.move_software_category_rule(a, false).await.unwrap());
        assert_eq!(order().await, [c, a, b]);
        assert!(store.delete_software_category_rule(a).await.unwrap());
        assert!(!store.delete_software_category_rule(a).await.unwrap());
        assert_eq!(order().await, [c, b]);
        let rule = &store.software_category_rules().await.unwrap()[0];
        assert_eq!(
            (
                rule.sign_version.as_deref(),
                rule.version.as_deref(),
                rule.publisher.as_deref()
            ),
            (Some("MORE"), Some("1.0"), Some("Acme*"))
        );
    }
}

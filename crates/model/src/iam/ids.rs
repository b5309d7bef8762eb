//! Unique ids as AWS writes them: a prefix naming the kind of entity (`AIDA` users,
//! `AROA` roles, `AGPA` groups, `ANPA` policies, `AIPA` instance profiles, `AKIA` access
//! keys) and characters of the base32 alphabet. The random bytes come from the caller.

use super::Entity;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// How many random characters follow an entity id's prefix (21 characters in all).
pub const ENTITY_RANDOM_CHARS: usize = 17;

/// An entity's unique id from `random` (one byte per character, `ENTITY_RANDOM_CHARS` used).
pub fn entity_id(entity: Entity, random: &[u8]) -> String {
    with_prefix(entity.id_prefix(), random.iter().take(ENTITY_RANDOM_CHARS))
}

/// `prefix` followed by one base32 character per byte.
pub fn with_prefix<'a>(prefix: &str, random: impl Iterator<Item = &'a u8>) -> String {
    prefix.chars().chain(random.map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_prefix_and_base32_characters() {
        let id = entity_id(Entity::Role, &[0, 1, 25, 26, 31, 32, 255, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 99]);
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROAABZ27A7"));
        assert!(id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }
}

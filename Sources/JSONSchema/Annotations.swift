/// What a successful evaluation learnt about which properties and items were evaluated.
struct Annotations {
    var properties: Set<String> = []
    var allProperties = false
    var itemsUpTo = 0
    var allItems = false
    var containsIndices: Set<Int> = []

    /// Adds the annotations of a successful in-place subschema.
    mutating func merge(_ other: Annotations) {
        if other.allProperties { allProperties = true } else if !other.properties.isEmpty { properties.formUnion(other.properties) }
        if other.allItems { allItems = true }
        if other.itemsUpTo > itemsUpTo { itemsUpTo = other.itemsUpTo }
        if !other.containsIndices.isEmpty { containsIndices.formUnion(other.containsIndices) }
    }
}

/// One step of an instance location.
enum PathToken {
    case key(String)
    case index(Int)
}

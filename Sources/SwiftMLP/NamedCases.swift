/// An enum whose cases each have one name: the text of model files, of
/// messages and of the bindings. `names` is its table, declared once per
/// enum; `description` and `init?(name:)` both read it, so a name is
/// written in one place. Every case is in its table with a distinct name
/// (NamedCasesTests).
public protocol NamedCases: CaseIterable, CustomStringConvertible, Hashable, Sendable {
    /// Every case and its name.
    static var names: [Self: String] { get }
}

extension NamedCases {
    public var description: String { Self.names[self] ?? "" }

    /// The case named `name`, or nil if no case has that name.
    public init?(name: some StringProtocol) {
        guard let named = Self.names.first(where: { $0.value == name }) else { return nil }
        self = named.key
    }
}

import ArgumentParser
import CommuneSQLite

extension Durability: ExpressibleByArgument {}

import NIOCore

/// Notices a client going away while its request runs. Hummingbird allows half-closed
/// connections, so a client that closes its socket shows up first as `inputClosed` (the channel
/// itself closes only on the next write); either one cancels the request. A client that shuts
/// only its sending side after the request counts as gone too.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    private let cancel: CancelFlag

    init(_ cancel: CancelFlag) { self.cancel = cancel }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { cancel.cancel() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel.cancel()
        context.fireChannelInactive()
    }

    /// Watches `channel` for `cancel` until the returned closure removes the watcher.
    static func watch(_ channel: any Channel, _ cancel: CancelFlag) async -> @Sendable () -> Void {
        let watcher = DisconnectWatcher(cancel)
        do { try await channel.pipeline.addHandler(watcher, position: .first).get() } catch {
            // The channel is already closed.
            cancel.cancel()
            return {}
        }
        return { channel.pipeline.removeHandler(watcher, promise: nil) }
    }
}

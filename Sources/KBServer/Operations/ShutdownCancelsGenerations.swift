import Hummingbird
import Logging
import ServiceLifecycle

/// Runs the Hummingbird application and, the moment a graceful shutdown begins, cancels the running
/// and waiting generations. Without this the HTTP server would wait for every in-flight answer to
/// finish (minutes for a long one) before exiting.
struct ShutdownCancelsGenerations<App: ApplicationProtocol>: Service {
    let application: App
    let answers: AnswerService
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: { [answers, logger] in
            let running = answers.running.count, waiting = answers.queue.counts.waiting
            logger.notice("shutting down: cancelling \(running) running and \(waiting) waiting generations")
            answers.shutDown()
        }
    }
}

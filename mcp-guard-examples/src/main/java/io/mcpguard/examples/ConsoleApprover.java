package io.mcpguard.examples;

import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRequest;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An out-of-band approver at the server's own terminal: the operator who started the server reads each approval
 * request there and answers with {@code approve <id> [reason]} or {@code deny <id> [reason]} ({@code list} shows what
 * waits). Nothing travels through the agent's MCP client. The approver's id is fixed when the server starts (the
 * person at this terminal); a real deployment authenticates approvers in its console or chat tool instead.
 */
public final class ConsoleApprover {

    private final ApprovalQueue queue;
    private final String approver;
    private final PrintStream out;

    private ConsoleApprover(ApprovalQueue queue, String approver, PrintStream out) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.approver = Objects.requireNonNull(approver, "approver");
        this.out = Objects.requireNonNull(out, "out");
    }

    /**
     * Starts reading answers from the terminal on a daemon thread, and prints each new request.
     *
     * @param queue the approval queue the guard asks
     * @param approver who sits at this terminal, e.g. {@code alice@example.com}
     * @param in the terminal's input
     * @param out the terminal's output
     * @return the approver
     */
    public static ConsoleApprover start(ApprovalQueue queue, String approver, InputStream in, PrintStream out) {
        ConsoleApprover console = new ConsoleApprover(queue, approver, out);
        queue.onRequest(console::announce);
        Thread reader = new Thread(() -> console.read(in), "console-approver");
        reader.setDaemon(true);
        reader.start();
        return console;
    }

    private void announce(ApprovalRequest request) {
        out.printf("%nApproval %s: agent '%s' wants %s %s (%s, %s; needs %d approver%s). "
                + "Type: approve %s <reason> | deny %s <reason>%n", request.id(), request.agent().agentId(),
                request.tool(), request.canonicalArguments(), request.reversibility().code(), request.rule(),
                request.requiredApprovers(), request.requiredApprovers() == 1 ? "" : "s", request.id(), request.id());
    }

    private void read(InputStream in) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                out.println(answer(line));
            }
        } catch (java.io.IOException e) {
            out.println("console approver stopped: " + e.getMessage());
        }
    }

    /**
     * Handles one command line.
     *
     * @param line {@code list}, {@code approve <id> [reason]} or {@code deny <id> [reason]}
     * @return what happened
     */
    String answer(String line) {
        String[] words = line.strip().split("\\s+", 3);
        if (words.length == 0 || words[0].isEmpty()) {
            return "";
        }
        if (words[0].equals("list")) {
            StringBuilder list = new StringBuilder();
            for (ApprovalRequest request : queue.pending()) {
                list.append(request.id()).append(' ').append(request.agent().agentId()).append(' ')
                        .append(request.tool()).append(' ').append(request.canonicalArguments()).append('\n');
            }
            return list.length() == 0 ? "nothing waits for approval" : list.toString().strip();
        }
        if (words.length < 2 || !(words[0].equals("approve") || words[0].equals("deny"))) {
            return "usage: list | approve <id> [reason] | deny <id> [reason]";
        }
        String reason = words.length == 3 ? words[2] : "decided at the server console";
        ApprovalQueue.Answer answer = words[0].equals("approve") ? queue.approve(words[1], approver, reason)
                : queue.deny(words[1], approver, reason);
        return words[1] + ": " + answer.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    }
}

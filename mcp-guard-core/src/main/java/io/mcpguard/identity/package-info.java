/** Agent identities and the resolvers that turn a request's verified credentials into one. */
package io.mcpguard.identity;

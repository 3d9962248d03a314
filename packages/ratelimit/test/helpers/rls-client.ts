/**
 * A gRPC client of the service's envoy RateLimitService API, on the proto the
 * package ships, as the tests and the service bench call it.
 */
import * as grpc from "@grpc/grpc-js";
import { loadRlsService } from "../../src/service/service.js";

export interface RlsResponse {
  overall_code: string;
  statuses: {
    code: string;
    current_limit: { name: string; requests_per_unit: number; unit: string } | null;
    limit_remaining: number;
    duration_until_reset: { seconds: number; nanos: number } | null;
  }[];
}

export interface RlsClient extends grpc.Client {
  ShouldRateLimit(
    request: unknown,
    callback: (error: grpc.ServiceError | null, response: RlsResponse) => void,
  ): void;
}

/** An insecure client of the service listening on 127.0.0.1:port. */
export function rlsClient(port: number): RlsClient {
  const Client = loadRlsService();
  return new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as RlsClient;
}

/** ShouldRateLimit as a promise. */
export function shouldRateLimit(client: RlsClient, request: unknown): Promise<RlsResponse> {
  return new Promise((resolve, reject) =>
    client.ShouldRateLimit(request, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

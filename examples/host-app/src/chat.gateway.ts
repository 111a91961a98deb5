import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';

/** The team's own real-time channel: socket.io, on the app's port, beside the bridge's media stream. */
@WebSocketGateway({ path: '/chat' })
export class ChatGateway {
  @SubscribeMessage('ping')
  ping(@MessageBody() text: string): { event: string; data: string } {
    return { event: 'pong', data: `pong: ${text}` };
  }
}

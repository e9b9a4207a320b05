import { SendOutlined } from '@ant-design/icons';
import { i18n } from '@nocobase/client';
import { Instruction, WorkflowVariableInput, WorkflowVariableJSON } from '@nocobase/plugin-workflow/client';
import { RESPONSE_INSTRUCTION } from '../common/constants';
import { KeyValueEditor } from './components/KeyValueEditor';
import { msg, NAMESPACE, tval } from './locale';

const tr = (text: string) => i18n.t(text, { ns: [NAMESPACE, 'workflow', 'client'] });

const CONTINUE_OFF = msg('Unchecked: the answer is sent and the run ends here; the nodes after this one do not run.');
const CONTINUE_ON = msg(
  'Checked: the answer is sent at once and the run goes on with the next nodes; their result does not change the answer.',
);

/**
 * The Webhook response node: the status, headers and body that a sync webhook answers with.
 * The run ends here, or goes on with the next nodes (`continue`). Offered only in sync webhook workflows.
 */
export default class WebhookResponseInstruction extends Instruction {
  title = tval('Webhook response');
  type = RESPONSE_INSTRUCTION;
  group = 'extended';
  // True whichever way `continue` is set: the field below says what happens with this node's setting.
  description = tval(
    'Answers the caller of a sync webhook with this status, headers and body (each may use variables). The run ends here unless "Go on with the next nodes" is checked.',
  );
  icon = <SendOutlined />;
  /** The run ends here, unless the node answers and goes on (`continue`). */
  end = (node: { config?: { continue?: boolean } }) => !node?.config?.continue;
  fieldset = {
    status: {
      type: 'number',
      title: tval('Status'),
      description: tval('HTTP status code, 100 to 599, or a variable.'),
      'x-decorator': 'FormItem',
      'x-component': 'WorkflowVariableInput',
      'x-component-props': {
        useTypedConstant: [['number', { min: 100, max: 599, step: 1, precision: 0 }]],
      },
      default: 200,
      'x-validator': (value: unknown) => {
        if (value == null || value === '' || (typeof value === 'string' && value.includes('{{'))) return undefined;
        const n = Number(value);
        return Number.isInteger(n) && n >= 100 && n <= 599
          ? undefined
          : tr('Status must be an HTTP status code between 100 and 599');
      },
    },
    headers: {
      title: tval('Response headers'),
      description: tval('Header names and values; values may use variables.'),
      'x-decorator': 'FormItem',
      'x-component': 'KeyValueEditor',
      'x-component-props': { variables: true },
    },
    body: {
      title: tval('Response body'),
      description: tval(
        'JSON sent as the body (application/json unless a Content-Type header says otherwise); may use variables.',
      ),
      'x-decorator': 'FormItem',
      'x-component': 'WorkflowVariableJSON',
      'x-component-props': { changeOnSelect: true, autoSize: { minRows: 8 }, placeholder: '{ "ok": true }' },
    },
    continue: {
      type: 'boolean',
      title: tval('After answering'),
      description: tval(CONTINUE_OFF),
      'x-decorator': 'FormItem',
      'x-decorator-props': { 'data-testid': 'response-continue-item' },
      'x-component': 'Checkbox',
      'x-content': tval('Go on with the next nodes'),
      'x-component-props': { 'data-testid': 'response-continue' },
      default: false,
      // The help follows the option: what happens after this node with the current setting.
      'x-reactions': [
        (field: { value?: unknown; description?: unknown }) => {
          field.description = tr(field.value ? CONTINUE_ON : CONTINUE_OFF);
        },
      ],
    },
  };
  components = {
    KeyValueEditor,
    WorkflowVariableInput,
    WorkflowVariableJSON,
  };
  isAvailable({ workflow }: { workflow: { type?: string; sync?: boolean } }) {
    return workflow?.type === 'webhook' && !!workflow?.sync;
  }
}

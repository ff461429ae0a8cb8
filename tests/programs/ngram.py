"""An N-gram language model that learns word embeddings: the shape of PyTorch's "Word Embeddings" tutorial.

Predict a word of Shakespeare's second sonnet from the two words before it:
``nn.Embedding``, ``view((1, -1))``, two ``nn.Linear`` layers, ``F.log_softmax``,
``nn.NLLLoss`` and ``optim.SGD``, one example per step.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

CONTEXT_SIZE = 2
EMBEDDING_DIM = 10
test_sentence = """When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now,
Will be a totter'd weed of small worth held:
Then being asked, where all thy beauty lies,
Where all the treasure of thy lusty days;
To say, within thine own deep sunken eyes,
Were an all-eating shame, and thriftless praise.
How much more praise deserv'd thy beauty's use,
If thou couldst answer 'This fair child of mine
Shall sum my count, and make my old excuse,'
Proving his beauty by succession thine!
This were to be new made when thou art old,
And see thy blood warm when thou feel'st it cold.""".split()


class NGramLanguageModeler(nn.Module):
    def __init__(self, vocab_size, embedding_dim, context_size):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 128)
        self.linear2 = nn.Linear(128, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        out = self.linear2(out)
        log_probs = F.log_softmax(out, dim=1)
        return log_probs


def main(epochs=2, init=None):
    ngrams = [
        ([test_sentence[i - j - 1] for j in range(CONTEXT_SIZE)], test_sentence[i])
        for i in range(CONTEXT_SIZE, len(test_sentence))
    ]
    vocab = sorted(set(test_sentence))
    word_to_ix = {word: i for i, word in enumerate(vocab)}

    loss_function = nn.NLLLoss()
    model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = optim.SGD(model.parameters(), lr=0.001)

    losses = []
    for epoch in range(epochs):
        total_loss = 0
        for context, target in ngrams:
            context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
            model.zero_grad()
            log_probs = model(context_idxs)
            loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            losses.append(loss.item())
        print(f"epoch {epoch}: total loss {total_loss:.4f}")
    print(model.embeddings.weight[word_to_ix["beauty"]])
    return losses, initial


if __name__ == "__main__":
    main()

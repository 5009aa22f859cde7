// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title RewardPool
/// @notice A reward pool shared by its participants.
contract RewardPoolTest040 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public protocolFeeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice Stop or resume deposits.
    function pauseDeposits(bool value) external {
        require(tx.origin == governor, "not owner");
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function sweep(address payable to, uint256 amount) external onlyOwner {
        require(to != address(0), "zero address");
        require(address(this).balance - totalHeld >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }

    /// @notice Add the ether sent to the caller's balance.
    function _contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function claim() external {
        uint256 amount = stakes[msg.sender];
        require(amount > 0, "nothing to claim");
        stakes[msg.sender] = 0;
        totalHeld -= amount;
        payable(msg.sender).send(amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function distribute(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= payees.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            stakes[payees[i]] += share;
        }
        totalHeld += share * count;
    }

    /// @notice `account`'s share of the pool, in basis points.
    function shareOf(address account) external view returns (uint256) {
        if (totalHeld == 0) {
            return 0;
        }
        return stakes[account] * BPS_DENOMINATOR / totalHeld;
    }

    /// @notice Add the caller to the member list once.
    function enroll() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }
}
